package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// vectorWriter writes vectors to stdout in one of the output formats.
type vectorWriter interface {
	Write(path string, v []float32) error
	Close() error // completes the output
	Abort()       // after an error or interruption: keep what is complete
}

type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonlWriter) Write(path string, v []float32) error {
	q, err := json.Marshal(path)
	if err != nil {
		return err
	}
	b := append(j.buf[:0], `{"path":`...)
	b = append(b, q...)
	if raw := nameBytes(path); raw != "" {
		b = append(b, `,"path_bytes":"`...)
		b = append(b, raw...) // base64: nothing to escape
		b = append(b, '"')
	}
	b = append(b, `,"vector":[`...)
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	b = append(b, "]}\n"...)
	j.buf = b
	_, err = j.w.Write(b)
	return err
}

func (j *jsonlWriter) Close() error { return j.w.Flush() }
func (j *jsonlWriter) Abort()       { j.w.Flush() }

type csvWriter struct {
	w      *csv.Writer
	dim    int
	header bool
	rec    []string
}

func (c *csvWriter) writeHeader() error {
	c.header = true
	h := make([]string, c.dim+1)
	h[0] = "path"
	for i := 0; i < c.dim; i++ {
		h[i+1] = "v" + strconv.Itoa(i)
	}
	return c.w.Write(h)
}

func (c *csvWriter) Write(path string, v []float32) error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	c.rec = append(c.rec[:0], path)
	for _, x := range v {
		c.rec = append(c.rec, strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	return c.w.Write(c.rec)
}

func (c *csvWriter) Close() error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}
func (c *csvWriter) Abort() { c.w.Flush() }

// npyWriter spills rows to a temporary file, because the .npy header
// carries the row count, then writes header and rows to w at Close.
type npyWriter struct {
	w     io.Writer
	tmp   *os.File
	buf   *bufio.Writer
	rows  int
	dim   int
	bytes []byte
}

func (n *npyWriter) Write(_ string, v []float32) error {
	if n.tmp == nil {
		f, err := os.CreateTemp("", "embedsearch-npy-*")
		if err != nil {
			return err
		}
		os.Remove(f.Name()) // lives until closed; nothing left behind
		n.tmp, n.buf = f, bufio.NewWriterSize(f, 1<<16)
	}
	if len(v) != n.dim {
		return fmt.Errorf("npy: vector of %d values in a %d-column array", len(v), n.dim)
	}
	n.bytes = n.bytes[:0]
	for _, x := range v {
		n.bytes = binary.LittleEndian.AppendUint32(n.bytes, math.Float32bits(x))
	}
	n.rows++
	_, err := n.buf.Write(n.bytes)
	return err
}

func (n *npyWriter) Close() error {
	if err := n.writeHeader(); err != nil {
		return err
	}
	if n.tmp == nil {
		return nil
	}
	defer n.tmp.Close()
	if err := n.buf.Flush(); err != nil {
		return err
	}
	if _, err := n.tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(n.w, n.tmp)
	return err
}

func (n *npyWriter) Abort() {
	if n.tmp != nil {
		n.tmp.Close()
	}
}

// writeHeader writes a version 1.0 .npy header for a little-endian
// float32 C-order array of shape (rows, dim).
func (n *npyWriter) writeHeader() error {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n.rows, n.dim)
	total := 10 + len(dict) + 1 // magic+version+len, dict, newline
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, bytes.Repeat([]byte(" "), pad)...)
	h = append(h, '\n')
	_, err := n.w.Write(h)
	return err
}
