package duck

import (
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Budget caps the bytes of result batches held at once for one group of
// results (the engine keeps one per user). Rows charged to a Budget (see
// Rows.SetBudget) count the pooled buffers of the batches they hand out
// against it until the batches are released, and end their next fetch with
// ErrUserResultMemory once it is past its limit. Safe for concurrent use:
// the accounting is one atomic add per buffer.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes (limit > 0).
func NewBudget(limit int64) *Budget { return &Budget{limit: limit} }

// Limit is the budget's cap in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is the bytes of batches charged to b and not yet released.
func (b *Budget) Used() int64 { return b.used.Load() }

func (b *Budget) exceeded() bool { return b.used.Load() > b.limit }

// budgetAllocator is the allocator of one result charged to a Budget: it
// takes buffers from the shared pool (which counts them against
// Options.ResultMemoryLimit) and counts the same bytes against the budget.
// A buffer remembers its allocator, so a batch released after its Rows is
// closed still credits the budget.
type budgetAllocator struct {
	pool   *poolAllocator
	budget *Budget
}

var _ memory.Allocator = (*budgetAllocator)(nil)

// Allocate returns a buffer of size bytes with undefined contents.
func (a *budgetAllocator) Allocate(size int) []byte {
	b := a.pool.Allocate(size)
	if size >= minPooled {
		a.budget.used.Add(int64(cap(b)))
	}
	return b
}

// Reallocate grows b to size, keeping its contents.
func (a *budgetAllocator) Reallocate(size int, b []byte) []byte { return reallocate(a, size, b) }

// Free returns a buffer to the pool and credits the budget with what
// Allocate charged for it.
func (a *budgetAllocator) Free(b []byte) {
	if c := cap(b); pooled(c) {
		a.budget.used.Add(-int64(c))
	}
	a.pool.Free(b)
}
