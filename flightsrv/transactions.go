//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// DefaultTxIdleTimeout is how long a transaction may stay unused before the
// server rolls it back, unless Options.TxIdleTimeout says otherwise.
const DefaultTxIdleTimeout = 10 * time.Minute

// flightTx is an open Flight SQL transaction (BeginTransaction).
type flightTx struct {
	tx   *engine.Tx
	user catalog.UserID
	used time.Time
}

// BeginTransaction opens a transaction; statements, prepared statements
// and updates that carry its id run inside it.
func (s *Server) BeginTransaction(ctx context.Context, _ flightsql.ActionBeginTransactionRequest) ([]byte, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.exec.Begin(sess)
	if err != nil {
		return nil, statusError(err)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.mu.txs[id] = &flightTx{tx: tx, user: sess.User, used: time.Now()}
	s.mu.Unlock()
	return []byte(id), nil
}

// EndTransaction commits or rolls back a transaction and forgets its id.
func (s *Server) EndTransaction(ctx context.Context, req flightsql.ActionEndTransactionRequest) error {
	sess, err := session(ctx)
	if err != nil {
		return err
	}
	id := req.GetTransactionId()
	tx, err := s.txFor(sess, id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.mu.txs, string(id))
	s.mu.Unlock()
	switch req.GetAction() {
	case flightsql.EndTransactionCommit:
		return statusError(tx.Commit(ctx))
	case flightsql.EndTransactionRollback:
		tx.Rollback()
		return nil
	default:
		tx.Rollback()
		return statusError(catalog.Errorf(catalog.KindInvalid, "EndTransaction: unknown action %v (the transaction was rolled back)", req.GetAction()))
	}
}

// txFor resolves a transaction id sent with a command (nil id: none).
func (s *Server) txFor(sess *engine.Session, id []byte) (*engine.Tx, error) {
	if len(id) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.mu.txs[string(id)]
	if !ok || t.user != sess.User {
		return nil, statusError(catalog.Errorf(catalog.KindNotFound, "unknown or ended transaction (transactions idle for %s are rolled back)", s.opts.TxIdleTimeout))
	}
	t.used = time.Now()
	return t.tx, nil
}

// expireTxs rolls back Flight SQL transactions idle for longer than
// Options.TxIdleTimeout.
func (s *Server) expireTxs(now time.Time) {
	var expired []*flightTx
	s.mu.Lock()
	for id, t := range s.mu.txs {
		if now.Sub(t.used) > s.opts.TxIdleTimeout {
			expired = append(expired, t)
			delete(s.mu.txs, id)
		}
	}
	s.mu.Unlock()
	for _, t := range expired {
		s.log.Info("rolled back an idle transaction", "user", t.user, "idle_for", s.opts.TxIdleTimeout)
		t.tx.Rollback()
	}
}
