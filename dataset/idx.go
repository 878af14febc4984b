package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is the content of an IDX file: unsigned bytes with a shape.
type IDX struct {
	Dims []int
	Data []byte
}

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("malformed IDX data")

// maxIDXBytes bounds the size a header may announce (1 GiB), so that a
// corrupt header cannot make the reader allocate without limit.
const maxIDXBytes = 1 << 30

// trustedIDXBytes is the largest announced size allocated before the data
// is read.
const trustedIDXBytes = 1 << 27

// ReadIDX reads an IDX stream of unsigned bytes (type code 0x08). The
// magic number is two zero bytes, the type code and the number of
// dimensions; then one big-endian uint32 per dimension; then the data.
func ReadIDX(r io.Reader) (*IDX, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, eofTruncated(err))
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("%w: magic number 0x%08x does not start with two zero bytes (not an IDX file)", ErrFormat, magic)
	}
	if hdr[2] != 0x08 {
		return nil, fmt.Errorf("%w: magic number 0x%08x has data type 0x%02x; only unsigned bytes (0x08) are supported", ErrFormat, magic, hdr[2])
	}
	nd := int(hdr[3])
	if nd == 0 {
		return nil, fmt.Errorf("%w: magic number 0x%08x declares no dimensions", ErrFormat, magic)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var d [4]byte
		if _, err := io.ReadFull(r, d[:]); err != nil {
			return nil, fmt.Errorf("%w: dimension %d: %v", ErrFormat, i, eofTruncated(err))
		}
		dims[i] = int(binary.BigEndian.Uint32(d[:]))
		if dims[i] > maxIDXBytes || (dims[i] > 0 && total > maxIDXBytes/dims[i]) {
			return nil, fmt.Errorf("%w: dimensions %v announce more than %d bytes", ErrFormat, dims[:i+1], maxIDXBytes)
		}
		total *= dims[i]
	}
	// A size up to trustedIDXBytes is allocated at once (the MNIST training
	// images, 47 MB, in one piece and one copy); beyond, the buffer grows by
	// doubling up to what the header announces, so that a corrupt header
	// costs memory in proportion to the data actually present.
	data := make([]byte, 0, min(total, max(trustedIDXBytes, 1<<24)))
	for len(data) < total {
		if len(data) == cap(data) {
			grown := make([]byte, len(data), min(total, 2*cap(data)))
			copy(grown, data)
			data = grown
		}
		n, err := io.ReadFull(r, data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err != nil {
			return nil, fmt.Errorf("%w: truncated: the header announces %d data bytes (shape %v) but only %d are present", ErrFormat, total, dims, len(data))
		}
	}
	// Anything after the data means the header and the file disagree.
	// A compressed stream must also end cleanly (its checksum is read here).
	var extra [1]byte
	switch n, err := io.ReadFull(r, extra[:]); {
	case n > 0:
		return nil, fmt.Errorf("%w: data continues after the %d bytes the header announces (shape %v)", ErrFormat, total, dims)
	case err != io.EOF:
		return nil, fmt.Errorf("%w: after the data: %v", ErrFormat, eofTruncated(err))
	}
	return &IDX{Dims: dims, Data: data}, nil
}

func eofTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file is truncated")
	}
	return err
}

// ReadIDXFile reads an IDX file, gzip-compressed or not (recognised by its
// first bytes). Errors name the file.
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: corrupt gzip stream: %v", path, ErrFormat, err)
		}
		defer gz.Close()
		r = gz
	}
	idx, err := ReadIDX(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return idx, nil
}
