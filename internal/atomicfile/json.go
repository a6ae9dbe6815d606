package atomicfile

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v as indented JSON with a final newline to name in dir,
// atomically (Write).
func WriteJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return Write(dir, name, func(w io.Writer) (int64, error) {
		n, err := w.Write(b)
		return int64(n), err
	})
}
