package flightsrv

import (
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// flightService is the Flight service that gRPC serves: arrow-go's Flight
// SQL dispatcher, with DoPut checked first. The dispatcher dereferences the
// first message's descriptor and decodes client schemas and batch headers
// as trusted input; flightService refuses a stream without a command, and
// checks every message's IPC header (checkIPCMessage) before the
// dispatcher's reader sees it.
type flightService struct {
	flight.FlightServer
	// maxDecoded bounds what one message's compressed buffers may
	// decompress to.
	maxDecoded int64
}

var _ flight.FlightServer = (*flightService)(nil)

// DoPut checks the stream's first message and then hands the stream, every
// message checked, to the Flight SQL dispatcher.
func (f *flightService) DoPut(stream flight.FlightService_DoPutServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return statusError(catalog.Errorf(catalog.KindInvalid, "DoPut: the stream ended before its first message"))
	}
	if err != nil {
		return err
	}
	if len(first.GetFlightDescriptor().GetCmd()) == 0 {
		return statusError(catalog.Errorf(catalog.KindInvalid, "DoPut needs a FlightDescriptor holding a Flight SQL command in its first message"))
	}
	cs := &checkedPutStream{FlightService_DoPutServer: stream, maxDecoded: f.maxDecoded, first: first}
	return f.FlightServer.DoPut(cs)
}

// checkedPutStream replays the first message of a DoPut stream and checks
// the IPC header of every message it returns.
type checkedPutStream struct {
	flight.FlightService_DoPutServer
	maxDecoded int64
	first      *flight.FlightData
}

// Recv returns the next message if its IPC header passes checkIPCMessage.
func (s *checkedPutStream) Recv() (*flight.FlightData, error) {
	fd := s.first
	s.first = nil
	if fd == nil {
		var err error
		if fd, err = s.FlightService_DoPutServer.Recv(); err != nil {
			return nil, err
		}
	}
	if err := checkFlightData(fd, s.maxDecoded); err != nil {
		return nil, err
	}
	return fd, nil
}

// checkFlightData checks one FlightData message of a client's stream.
func checkFlightData(fd *flight.FlightData, maxDecoded int64) error {
	if err := checkIPCMessage(fd.GetDataHeader(), fd.GetDataBody(), maxDecoded); err != nil {
		return catalog.WrapKind(catalog.KindInvalid, err, "malformed Arrow IPC message")
	}
	return nil
}
