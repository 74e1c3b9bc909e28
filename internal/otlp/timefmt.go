package otlp

import (
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// timeFormat writes times as the conventions' attributes want them,
// RFC 3339 in UTC with nanoseconds. The date and the time to the minute
// are kept from the last time written: a record's two times, and the next
// records', nearly always fall in the same minute.
type timeFormat struct {
	minute int64    // the Unix minute prefix is of
	prefix [17]byte // "2006-01-02T15:04:" of that minute
	valid  bool
}

func (tf *timeFormat) appendAttr(b []byte, field protowire.Number, key string, t time.Time) []byte {
	var buf [40]byte
	return appendStr(b, field, key, tf.append(buf[:0], t))
}

// append is appendRFC3339(b, t), which it calls once a minute.
func (tf *timeFormat) append(b []byte, t time.Time) []byte {
	sec := t.Unix()
	minute := sec / 60
	if sec%60 < 0 { // floor division, for times before 1970
		minute--
	}
	if !tf.valid || minute != tf.minute {
		appendRFC3339(tf.prefix[:0], t)
		tf.minute, tf.valid = minute, true
	}
	b = append(b, tf.prefix[:]...)
	b = appendDigits(b, int(sec-minute*60), 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendRFC3339 is t.UTC().AppendFormat(b, timeLayout), in a fifth of the
// time.
func appendRFC3339(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends v in width decimal digits, zero-padded, two at a time.
func appendDigits(b []byte, v, width int) []byte {
	var d [10]byte
	i := width
	for ; i >= 2; i -= 2 {
		q := v / 100
		r := v - q*100
		d[i-2], d[i-1] = twoDigits[2*r], twoDigits[2*r+1]
		v = q
	}
	if i == 1 {
		d[0] = byte('0' + v%10)
	}
	return append(b, d[:width]...)
}

const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"
