package engine

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/hotstore"
	"github.com/kalamdb/kalamdb-go/jobs"
)

// HotStore is the hot tier (implemented by *hotstore.Store). Every write is
// durable when it returns; rows are the table's user columns in order.
type HotStore interface {
	Insert(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64) error
	Upsert(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64) error
	Delete(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs []int64) (int64, error)
	// UpsertVersions and DeleteVersions are Upsert and Delete as a
	// compare-and-set: each key's stored version must still be base[i]
	// (or the key have no hot version), else nothing is written and the
	// error is a KindConflict (see hotstore.UpsertVersions).
	UpsertVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs, base []int64) error
	DeleteVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs, base []int64) (int64, error)
	// MoveVersions writes an UPDATE's rows under new primary keys in place
	// of the rows at old keys, as one versioned write that also refuses
	// new keys holding live rows (see hotstore.MoveVersions).
	MoveVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64,
		old arrow.Array, base, tombSeqs []int64) error
	Scan(ctx context.Context, t *catalog.TableDef, user catalog.UserID, opts hotstore.ScanOptions, fn func(arrow.RecordBatch) error) error
	Lookup(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, alloc memory.Allocator) (arrow.RecordBatch, error)
	DropTable(ctx context.Context, storeID uint64) error
	ScanVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, opts hotstore.ScanOptions, fn func(arrow.RecordBatch) error) error
	CommitFlush(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs []int64, meta map[string][]byte) (int64, error)
	EvictBefore(ctx context.Context, t *catalog.TableDef, minSeq int64) (int64, error)
	Partitions(ctx context.Context, t *catalog.TableDef) ([]catalog.UserID, error)
	CountLive(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (int64, error)
	HasVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array) ([]bool, error)
	// BeginTx starts a transaction; operations whose context carries it
	// (hotstore.WithTx) are staged in it.
	BeginTx() (*hotstore.Tx, error)
	MetaGet(key []byte) ([]byte, bool, error)
	// MetaGetAt reads key in the snapshot of ctx's transaction, if any.
	MetaGetAt(ctx context.Context, key []byte) ([]byte, bool, error)
	MetaPut(key, value []byte) error
	MetaDelete(key []byte) error
	MetaScan(prefix []byte, fn func(key, value []byte) error) error
	MetaBatch(puts map[string][]byte, deletes []string) error
}

// Users manages accounts (implemented by *auth.Service).
type Users interface {
	CreateUser(id catalog.UserID, password string, role catalog.Role, email string) error
	CreateInternalUser(id catalog.UserID, role catalog.Role, email string) error
	SetPassword(id catalog.UserID, password string) error
	SetRole(id catalog.UserID, role catalog.Role) error
	SetEmail(id catalog.UserID, email string) error
	DropUser(id catalog.UserID) error
	GetUser(id catalog.UserID) (auth.User, bool)
	ListUsers() []auth.User
}

// ColdStore writes and removes Parquet segments (implemented by
// *coldstore.Store). The engine never builds segment paths itself.
type ColdStore interface {
	Create(t *catalog.TableDef, user catalog.UserID) (*coldstore.SegmentWriter, error)
	Path(seg coldstore.Segment) string
	Remove(seg coldstore.Segment) error
	RemoveOrphans(keep map[string]bool) ([]string, error)
}

// Jobs runs background work (implemented by *jobs.Manager).
type Jobs interface {
	Register(t jobs.Type, exec jobs.Executor)
	Submit(t jobs.Type, params map[string]string, idemKey string, idempotent bool) (string, bool, error)
	Kill(id string) error
	List() []jobs.Job
	Every(interval time.Duration, fn func(now time.Time))
}

var (
	_ ColdStore = (*coldstore.Store)(nil)
	_ Jobs      = (*jobs.Manager)(nil)
	_ HotStore  = (*hotstore.Store)(nil)
	_ Users     = (*auth.Service)(nil)
)
