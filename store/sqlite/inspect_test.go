package sqlite

import (
	"reflect"
	"testing"

	"hail/store"
	"hail/store/storetest"
)

// TestInspectAhead checks that arrivals decoded ahead give what
// store.Inspect gives, whether the writer catches the workers up, or stops
// them first and decodes the rest itself.
func TestInspectAhead(t *testing.T) {
	for _, stopFirst := range []bool{false, true} {
		arrivals := make([]*arrival, 3*inspectChunk+5)
		for i := range arrivals {
			arrivals[i] = &arrival{obj: storetest.BenchIndicator(t, i)}
		}
		stop := inspectAhead(arrivals, false)
		if stopFirst {
			stop()
		}
		for i, v := range arrivals {
			if got, want := v.inspect(), store.Inspect(v.obj); !reflect.DeepEqual(got, want) {
				t.Errorf("stop first %v: arrival %d: inspect() = %+v, want %+v", stopFirst, i, got, want)
			}
		}
		stop()
	}
}
