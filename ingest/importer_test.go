package ingest

import (
	"reflect"
	"testing"
)

func TestNextBatch(t *testing.T) {
	for _, tc := range []struct {
		limit int
		want  []int
	}{
		{20000, []int{1000, 2000, 4000, 8000, 16000, 20000, 20000}},
		{5000, []int{1000, 2000, 4000, 5000, 5000}},
		{100, []int{100, 100}},
	} {
		var got []int
		n := 0
		for range tc.want {
			n = NextBatch(n, tc.limit)
			got = append(got, n)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("limit %d: batches %v, want %v", tc.limit, got, tc.want)
		}
	}
}
