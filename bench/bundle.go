package bench

import (
	"bufio"
	"io"
)

// WriteBundle writes the data set of n object versions from seed, the one a
// run loads, as one STIX 2.1 bundle, oldest first: the input of `hail
// import` measured end to end, reading and validating included.
func WriteBundle(w io.Writer, seed int64, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"type":"bundle","id":"bundle--6b0e3a1c-2d4f-4a5b-8c6d-7e8f9a0b1c2d","objects":[`)
	g := NewGenerator(seed, n)
	first := true
	for {
		objs, err := g.Next(5000)
		if err != nil {
			return err
		}
		if objs == nil {
			break
		}
		for _, o := range objs {
			if !first {
				bw.WriteByte(',')
			}
			first = false
			bw.Write(o.Raw)
		}
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
