package flightsrv

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits on the schema a client sends in a DoPut stream, checked before
// arrow-go decodes it: arrow-go walks a schema's fields recursively without
// a depth limit, so a cyclic or very deep field tree would overflow the
// stack, which kills the process instead of panicking.
const (
	// maxSchemaDepth is the deepest field nesting accepted (arrow-go's own
	// limit when it loads the arrays of a batch).
	maxSchemaDepth = 64
	// maxSchemaFields bounds the fields (at every depth, counted once per
	// path) of a schema, so that a field tree whose children share
	// subtrees cannot make decoding exponential.
	maxSchemaFields = 1 << 16
)

// IPC message header types (Message.fbs MessageHeader) and table slots.
const (
	ipcHeaderSchema          = 1
	ipcHeaderDictionaryBatch = 2
	ipcHeaderRecordBatch     = 3

	fbTypeUnion = 14 // Schema.fbs Type

	slotMessageHeaderType   = 1
	slotMessageHeader       = 2
	slotSchemaFields        = 1
	slotSchemaMetadata      = 2
	slotFieldName           = 0
	slotFieldTypeType       = 2
	slotFieldType           = 3
	slotFieldChildren       = 5
	slotFieldMetadata       = 6
	slotKeyValueKey         = 0
	slotKeyValueValue       = 1
	slotUnionTypeIDs        = 1
	slotDictionaryBatchData = 1
	slotBatchBuffers        = 2
	slotBatchCompression    = 3
	slotBatchVariadicCounts = 4
)

// checkIPCMessage checks the flatbuffer Message header of one FlightData
// message, with its body, before arrow-go decodes it: that the offsets it
// follows stay inside it; for a schema, that its field tree is a tree of
// bounded depth and size, its vectors inside it and its strings not
// shared; for a record or dictionary batch, that its
// variadic buffer counts do not exceed its buffers and that its compressed
// buffers decompress to at most maxDecoded bytes in all (arrow-go allocates
// what a header declares before it finds out that the body does not hold
// it). Everything else is left to arrow-go's decoding, which recovers its
// own panics, and to array validation. An empty header (a descriptor-only
// message) is fine.
func checkIPCMessage(hdr, body []byte, maxDecoded int64) error {
	if len(hdr) == 0 {
		return nil
	}
	fb := flatbuf(hdr)
	msg, err := fb.root()
	if err != nil {
		return err
	}
	typ, ok, err := fb.u8Field(msg, slotMessageHeaderType)
	if err != nil || !ok {
		return err
	}
	h, ok, err := fb.tableField(msg, slotMessageHeader)
	if err != nil || !ok {
		return err
	}
	switch typ {
	case ipcHeaderSchema:
		b := &schemaBudget{fields: maxSchemaFields, bytes: len(hdr)}
		if err := fb.checkMetadata(h, slotSchemaMetadata, b); err != nil {
			return err
		}
		return fb.checkFields(h, slotSchemaFields, 1, b)
	case ipcHeaderDictionaryBatch:
		if h, ok, err = fb.tableField(h, slotDictionaryBatchData); err != nil || !ok {
			return err
		}
		fallthrough
	case ipcHeaderRecordBatch:
		return fb.checkBatch(h, body, maxDecoded)
	}
	return nil
}

// checkBatch checks a RecordBatch table (see checkIPCMessage).
func (fb flatbuf) checkBatch(t int, body []byte, maxDecoded int64) error {
	nbuf, bufs, _, err := fb.vectorField(t, slotBatchBuffers, 16)
	if err != nil {
		return err
	}
	nvar, vars, _, err := fb.vectorField(t, slotBatchVariadicCounts, 8)
	if err != nil {
		return err
	}
	for i := range nvar {
		if c := int64(binary.LittleEndian.Uint64(fb[vars+8*i:])); c < 0 || c > int64(nbuf) {
			return fmt.Errorf("record batch declares %d variadic buffers but has %d buffers", c, nbuf)
		}
	}
	if _, compressed, err := fb.field(t, slotBatchCompression); err != nil || !compressed {
		return err
	}
	var total int64
	for i := range nbuf {
		off := int64(binary.LittleEndian.Uint64(fb[bufs+16*i:]))
		n := int64(binary.LittleEndian.Uint64(fb[bufs+16*i+8:]))
		if n < 8 || off < 0 || off > int64(len(body))-8 {
			continue // arrow-go rejects it
		}
		if size := int64(binary.LittleEndian.Uint64(body[off:])); size > 0 {
			if total += size; total > maxDecoded || total < 0 {
				return fmt.Errorf("record batch decompresses to more than %d bytes", maxDecoded)
			}
		}
	}
	return nil
}

// schemaBudget is what is left of the limits on a schema: arrow-go decodes
// a field once per path that reaches it and copies its strings each time,
// so a header whose tables share subtrees or strings could otherwise
// decode to far more than its size.
type schemaBudget struct {
	fields int // fields still allowed
	bytes  int // bytes of names and metadata still allowed
}

// checkFields checks the vector of Field tables in slot of table t, and
// their names, metadata, union type ids and children, recursively.
func (fb flatbuf) checkFields(t, slot, depth int, b *schemaBudget) error {
	n, elem, ok, err := fb.vectorField(t, slot, 4)
	if err != nil || !ok {
		return err
	}
	if n > 0 && depth > maxSchemaDepth {
		return fmt.Errorf("schema nests fields more than %d deep", maxSchemaDepth)
	}
	for i := range n {
		if b.fields--; b.fields < 0 {
			return fmt.Errorf("schema has more than %d fields", maxSchemaFields)
		}
		f, err := fb.indirect(elem + 4*i)
		if err != nil {
			return err
		}
		if err := fb.spend(b, f, slotFieldName); err != nil {
			return err
		}
		if err := fb.checkMetadata(f, slotFieldMetadata, b); err != nil {
			return err
		}
		if typ, ok, err := fb.u8Field(f, slotFieldTypeType); err != nil {
			return err
		} else if ok && typ == fbTypeUnion {
			u, ok, err := fb.tableField(f, slotFieldType)
			if err != nil {
				return err
			}
			if ok {
				if _, _, _, err := fb.vectorField(u, slotUnionTypeIDs, 4); err != nil {
					return err
				}
			}
		}
		if err := fb.checkFields(f, slotFieldChildren, depth+1, b); err != nil {
			return err
		}
	}
	return nil
}

// checkMetadata checks a vector of KeyValue tables and spends the sizes of
// their strings.
func (fb flatbuf) checkMetadata(t, slot int, b *schemaBudget) error {
	n, elem, ok, err := fb.vectorField(t, slot, 4)
	if err != nil || !ok {
		return err
	}
	for i := range n {
		kv, err := fb.indirect(elem + 4*i)
		if err != nil {
			return err
		}
		if err := fb.spend(b, kv, slotKeyValueKey); err != nil {
			return err
		}
		if err := fb.spend(b, kv, slotKeyValueValue); err != nil {
			return err
		}
	}
	return nil
}

// spend charges the string in slot of table t to the budget.
func (fb flatbuf) spend(b *schemaBudget, t, slot int) error {
	n, _, _, err := fb.vectorField(t, slot, 1)
	if err != nil {
		return err
	}
	if b.bytes -= n; b.bytes < 0 {
		return errors.New("schema names and metadata exceed the message size (shared strings)")
	}
	return nil
}

// flatbuf reads a flatbuffer with every offset bounds-checked.
type flatbuf []byte

var errFlatbufBounds = errors.New("malformed IPC message header: offset out of bounds")

func (fb flatbuf) u32(p int) (int, error) {
	if p < 0 || p > len(fb)-4 {
		return 0, errFlatbufBounds
	}
	return int(binary.LittleEndian.Uint32(fb[p:])), nil
}

func (fb flatbuf) u16(p int) (int, error) {
	if p < 0 || p > len(fb)-2 {
		return 0, errFlatbufBounds
	}
	return int(binary.LittleEndian.Uint16(fb[p:])), nil
}

// root returns the position of the root table.
func (fb flatbuf) root() (int, error) { return fb.indirect(0) }

// indirect follows the unsigned offset stored at p.
func (fb flatbuf) indirect(p int) (int, error) {
	off, err := fb.u32(p)
	if err != nil {
		return 0, err
	}
	if t := p + off; t < len(fb) {
		return t, nil
	}
	return 0, errFlatbufBounds
}

// field returns the position of a table's field (false if absent).
func (fb flatbuf) field(t, slot int) (int, bool, error) {
	soff, err := fb.u32(t)
	if err != nil {
		return 0, false, err
	}
	vt := t - int(int32(uint32(soff)))
	vtSize, err := fb.u16(vt)
	if err != nil {
		return 0, false, err
	}
	entry := 4 + 2*slot
	if entry+2 > vtSize {
		return 0, false, nil
	}
	off, err := fb.u16(vt + entry)
	if err != nil || off == 0 {
		return 0, false, err
	}
	return t + off, true, nil
}

func (fb flatbuf) u8Field(t, slot int) (byte, bool, error) {
	p, ok, err := fb.field(t, slot)
	if err != nil || !ok {
		return 0, ok, err
	}
	if p >= len(fb) {
		return 0, false, errFlatbufBounds
	}
	return fb[p], true, nil
}

func (fb flatbuf) tableField(t, slot int) (int, bool, error) {
	p, ok, err := fb.field(t, slot)
	if err != nil || !ok {
		return 0, ok, err
	}
	sub, err := fb.indirect(p)
	return sub, err == nil, err
}

// vectorField returns the length of a vector of elements of stride bytes
// and the position of its first element.
func (fb flatbuf) vectorField(t, slot, stride int) (n, elem int, ok bool, err error) {
	p, ok, err := fb.field(t, slot)
	if err != nil || !ok {
		return 0, 0, ok, err
	}
	vec, err := fb.indirect(p)
	if err != nil {
		return 0, 0, false, err
	}
	if n, err = fb.u32(vec); err != nil {
		return 0, 0, false, err
	}
	if n > (len(fb)-vec-4)/stride {
		return 0, 0, false, errFlatbufBounds
	}
	return n, vec + 4, true, nil
}
