package duck

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// poolAllocator recycles large buffers of streamed result batches. Every
// batch allocates the same few buffer sizes and is released as soon as the
// Flight writer has serialised it; fresh memory for each batch cost more in
// page faults than the copy itself. Buffers under 64 KiB come from the Go
// heap. Memory from Allocate is NOT zeroed: callers clear what they need.
type poolAllocator struct {
	pools [48]sync.Pool // by power-of-two size class
	// used counts the bytes of pooled-size buffers handed out and not yet
	// freed: the result batches the server holds (see Options.ResultMemoryLimit).
	used atomic.Int64
}

var _ memory.Allocator = (*poolAllocator)(nil)

const minPooled = 64 << 10

func sizeClass(n int) int { return bits.Len(uint(n - 1)) }

// Allocate returns a buffer of size bytes with undefined contents.
func (a *poolAllocator) Allocate(size int) []byte {
	if size < minPooled {
		return make([]byte, size)
	}
	c := sizeClass(size)
	a.used.Add(1 << c)
	if b, ok := a.pools[c].Get().(*[]byte); ok {
		return (*b)[:size]
	}
	return make([]byte, size, 1<<c)
}

// Reallocate grows b to size, keeping its contents.
func (a *poolAllocator) Reallocate(size int, b []byte) []byte { return reallocate(a, size, b) }

// reallocate is Reallocate for any allocator: b itself when it has room,
// else a new buffer from a with b's contents, b freed.
func reallocate(a memory.Allocator, size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// pooled reports whether a buffer of capacity c came from the pools (and
// is counted in used).
func pooled(c int) bool { return c >= minPooled && c&(c-1) == 0 }

// Free returns a pooled buffer.
func (a *poolAllocator) Free(b []byte) {
	c := cap(b)
	if !pooled(c) {
		return
	}
	b = b[:c]
	a.used.Add(-int64(c))
	a.pools[sizeClass(c)].Put(&b)
}
