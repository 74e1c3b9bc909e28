package render

import (
	"strconv"
	"unicode/utf8"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// appendExecsJSON appends ,"execs":[...],"execs_dropped":N: each exec the
// process was seen to make, oldest first, with its time, filename and argv.
func appendExecsJSON(dst []byte, p *proctree.Process) []byte {
	dst = append(dst, `,"execs":[`...)
	first := true
	p.EachExec(func(e *proctree.Exec) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"time":"`...)
		dst = AppendTime(dst, e.Time)
		dst = append(dst, '"')
		dst = appendBytesField(dst, "filename", e.Filename)
		dst = appendArgs(dst, e.Args)
		dst = append(dst, `,"args_truncated":`...)
		dst = strconv.AppendBool(dst, e.ArgsTruncated)
		dst = append(dst, '}')
	})
	dst = append(dst, ']')
	return appendUintField(dst, "execs_dropped", uint64(p.ExecsDropped))
}

// appendExecChain writes the execs before the latest compactly, each as
// its program and leading options then "...", followed by " -> ", so that
// the command line that follows reads as where they led: sh -c ... -> sleep 1.
// Dropped execs show as a count.
func appendExecChain(dst []byte, p *proctree.Process) []byte {
	var n int
	p.EachExec(func(*proctree.Exec) { n++ })
	if n < 2 {
		return dst
	}
	if p.ExecsDropped > 0 {
		dst = append(dst, "("...)
		dst = strconv.AppendUint(dst, uint64(p.ExecsDropped), 10)
		dst = append(dst, " more) -> "...)
	}
	k := 0
	p.EachExec(func(e *proctree.Exec) {
		if k++; k == n {
			return
		}
		dst = appendCompactArgs(dst, e.Args)
		dst = append(dst, " -> "...)
	})
	return dst
}

// appendCompactArgs writes argv[0], up to two options after it, and "..."
// when more arguments follow.
func appendCompactArgs(dst []byte, args []byte) []byte {
	i, more := 0, false
	tracer.EachArg(args, func(a []byte) {
		switch {
		case more:
		case i == 0 || (i < 3 && len(a) > 1 && a[0] == '-'):
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = appendArg(dst, a)
			i++
		default:
			more = true
		}
	})
	if more {
		dst = append(dst, " ..."...)
	}
	return dst
}

// cutLine cuts a line (ending in a newline) to width columns, its last
// column an ellipsis, the way ps cuts to the terminal's width. Each rune
// counts as one column: the text is escaped, so it holds no control bytes.
func cutLine(line []byte, width int) []byte {
	if width <= 0 || utf8.RuneCount(line)-1 <= width {
		return line
	}
	cut, cols := 0, 0
	for cols < width-1 {
		_, size := utf8.DecodeRune(line[cut:])
		cut += size
		cols++
	}
	return append(append(line[:cut], "…"...), '\n')
}
