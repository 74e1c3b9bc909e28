package proctree

import "math/bits"

// argTable holds the processes' argv in reference-counted buffers: a child
// shares its parent's until it execs. Released buffers are recycled through
// free lists by power-of-two size class, so that in steady state an exec
// allocates nothing.
type argTable struct {
	bufs  []argBuf // bufs[noArgs] is never used: a node's zero value holds no args
	free  [argClasses][]argRef
	empty []argRef // entries whose buffer was dropped
}

// argRef is a reference to one buffer of an argTable.
type argRef int32

type argBuf struct {
	buf  []byte
	refs int32
	// off is where argv starts: an exec's buffer holds its filename, a NUL,
	// then argv (see storeExec); 0 for argv alone.
	off uint16
	// truncated tells that argv was cut: by the kernel, or to keep history small.
	truncated bool
}

const (
	noArgs        argRef = 0
	minArgClass          = 6 // 64 bytes
	argClasses           = 32
	freeArgsBytes        = 256 << 10 // kept per class after a burst of execs; the rest goes to the collector
)

func argClass(n int) int { return max(minArgClass, bits.Len(uint(n-1))) }

// store returns a new reference to a copy of args, NUL-terminated.
func (a *argTable) store(args []byte) argRef {
	if len(args) == 0 {
		return noArgs
	}
	return a.storeExec(nil, args, false)
}

// storeExec returns a new reference to a buffer holding filename, a NUL,
// and a copy of args, NUL-terminated (only args when filename is nil): an
// exec's record, of which get gives argv and filename the path.
func (a *argTable) storeExec(filename, args []byte, truncated bool) argRef {
	off := 0
	if filename != nil {
		off = len(filename) + 1
	}
	n := off + len(args)
	if len(args) > 0 && args[len(args)-1] != 0 {
		n++
	}
	c := argClass(n)
	var i argRef
	if k := len(a.free[c]); k > 0 {
		i = a.free[c][k-1]
		a.free[c] = a.free[c][:k-1]
	} else {
		i = a.newEntry()
		a.bufs[i].buf = make([]byte, 0, 1<<c)
	}
	b := &a.bufs[i]
	b.buf = b.buf[:0]
	if filename != nil {
		b.buf = append(append(b.buf, filename...), 0)
	}
	b.buf = append(b.buf, args...)
	if len(b.buf) < n {
		b.buf = append(b.buf, 0)
	}
	b.refs, b.off, b.truncated = 1, uint16(off), truncated
	return i
}

// shrink returns a reference to i's record with argv cut to at most max
// bytes: i itself when it is that short, else a copy, and i is released.
func (a *argTable) shrink(i argRef, max int) argRef {
	b := &a.bufs[i]
	if i == noArgs || len(b.buf)-int(b.off) <= max {
		return i
	}
	var name []byte
	if b.off > 0 {
		name = b.buf[:b.off-1]
	}
	args := b.buf[b.off : int(b.off)+max]
	j := a.storeExec(name, args, true)
	a.release(i)
	return j
}

func (a *argTable) newEntry() argRef {
	if k := len(a.empty); k > 0 {
		i := a.empty[k-1]
		a.empty = a.empty[:k-1]
		return i
	}
	if len(a.bufs) == 0 {
		a.bufs = append(a.bufs, argBuf{})
	}
	a.bufs = append(a.bufs, argBuf{})
	return argRef(len(a.bufs) - 1)
}

// retain returns another reference to i.
func (a *argTable) retain(i argRef) argRef {
	if i != noArgs {
		a.bufs[i].refs++
	}
	return i
}

// release drops a reference to i; the last one frees its buffer.
func (a *argTable) release(i argRef) {
	if i == noArgs {
		return
	}
	b := &a.bufs[i]
	if b.refs--; b.refs > 0 {
		return
	}
	c := argClass(cap(b.buf))
	if (len(a.free[c])+1)<<c > freeArgsBytes {
		b.buf = nil
		a.empty = append(a.empty, i)
		return
	}
	a.free[c] = append(a.free[c], i)
}

// releaseAll drops every reference, as when the tree is emptied.
func (a *argTable) releaseAll() {
	for c := range a.free {
		a.free[c] = a.free[c][:0]
	}
	a.empty = a.empty[:0]
	for i := 1; i < len(a.bufs); i++ {
		if a.bufs[i].buf == nil {
			a.empty = append(a.empty, argRef(i))
			continue
		}
		a.bufs[i].refs = 1
		a.release(argRef(i))
	}
}

// get is the NUL-terminated argv of reference i.
func (a *argTable) get(i argRef) []byte { return a.bufs[i].buf[a.bufs[i].off:] }

// filename is the exec'd path of a record storeExec made.
func (a *argTable) filename(i argRef) []byte {
	b := &a.bufs[i]
	if b.off == 0 {
		return nil
	}
	return b.buf[:b.off-1]
}
