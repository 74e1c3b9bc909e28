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
	return appendASCII(b, field, key, tf.append(buf[:0], t))
}

// append writes t as RFC 3339 in UTC with nanoseconds, what
// t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") does, in a fraction
// of the time: two times in a record otherwise cost more than the rest of it.
func (tf *timeFormat) append(b []byte, t time.Time) []byte {
	sec := t.Unix()
	minute := sec / 60
	if sec%60 < 0 { // floor division, for times before 1970
		minute--
	}
	if !tf.valid || minute != tf.minute {
		t = t.UTC()
		year, month, day := t.Date()
		hour, mins, _ := t.Clock()
		var buf [len(tf.prefix)]byte
		p := appendDigits(buf[:0], year, 4)
		p = append(p, '-')
		p = appendDigits(p, int(month), 2)
		p = append(p, '-')
		p = appendDigits(p, day, 2)
		p = append(p, 'T')
		p = appendDigits(p, hour, 2)
		p = append(p, ':')
		p = appendDigits(p, mins, 2)
		tf.prefix = [len(tf.prefix)]byte(append(p, ':'))
		tf.minute, tf.valid = minute, true
	}
	b = append(b, tf.prefix[:]...)
	b = appendDigits(b, int(sec-minute*60), 2)
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
