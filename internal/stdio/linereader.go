package stdio

import (
	"bufio"
	"errors"
	"io"
)

// lineReader splits a child's output into lines of at most max bytes: the
// child controls what it writes, so nothing may buffer an unbounded line.
type lineReader struct {
	r    *bufio.Reader
	max  int
	skip bool // the last line was long and the rest of it is still unread
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, min(max+1, 64<<10)), max: max}
}

// next returns the next line without its '\n'. A longer line comes back as
// its first max bytes with long set, and the next call skips the rest of
// it. A last line without '\n' is returned with a nil error; io.EOF (or a
// read error) comes with no line.
func (lr *lineReader) next() (l []byte, long bool, err error) {
	if lr.skip {
		lr.skip = false
		if err := lr.skipLine(); err != nil {
			return nil, false, err
		}
	}
	for {
		chunk, err := lr.r.ReadSlice('\n')
		body := chunk
		if err == nil {
			body = chunk[:len(chunk)-1]
		}
		if len(l)+len(body) > lr.max {
			l = append(l, body[:lr.max-len(l)]...)
			lr.skip = errors.Is(err, bufio.ErrBufferFull)
			return l, true, nil
		}
		l = append(l, body...) // copies: chunk aliases the reader's buffer
		switch {
		case err == nil:
			return l, false, nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF) && len(l) > 0:
			return l, false, nil
		default:
			return nil, false, err
		}
	}
}

func (lr *lineReader) skipLine() error {
	for {
		_, err := lr.r.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}
