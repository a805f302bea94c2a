package bench

import (
	"bufio"
	"io"
)

// WriteBundle writes what g generates (NewGenerator's data set is the one a
// run loads) as one STIX 2.1 bundle, oldest first: the input of `hail
// import` measured end to end, reading and validating included.
func WriteBundle(w io.Writer, g *Generator) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"type":"bundle","id":"bundle--6b0e3a1c-2d4f-4a5b-8c6d-7e8f9a0b1c2d","objects":[`)
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
