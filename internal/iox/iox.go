// Package iox holds small io helpers shared by the file writers.
package iox

import "io"

// CountingWriter passes writes to W and counts in N the bytes W accepted.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
