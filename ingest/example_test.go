package ingest_test

import (
	"fmt"
	"strings"
	"time"

	"hail/ingest"
	"hail/stix"
)

// importList imports a list into latest, a stand-in for the store's latest
// version of each object, and returns how many new versions it stored.
func importList(list string, opt ingest.ListOptions, latest map[string]stix.Object) int {
	stored := 0
	ingest.ReadList(strings.NewReader(list), opt, func(ioc ingest.IOC) error {
		obj, err := ingest.Indicator(ioc, opt)
		if err != nil {
			return err
		}
		obj, changed, err := ingest.Revise(latest[obj.ID], obj)
		if err != nil {
			return err
		}
		if changed {
			latest[obj.ID] = obj
			stored++
		}
		return nil
	}, func(line int, text, reason string) {
		fmt.Printf("line %d: %q: %s\n", line, text, reason)
	})
	return stored
}

// Importing the same list on three days stores each indicator once, then
// once more when its validity needs extending.
func ExampleRevise() {
	list := "# C2 servers\nevil[.]example\n198.51.100.7:8443\nnot-an-ioc\n"
	latest := map[string]stix.Object{}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []int{0, 1, 20} {
		opt := ingest.ListOptions{Source: "Example CERT", TLP: "green", TTL: 30 * 24 * time.Hour,
			Now: func() time.Time { return day.AddDate(0, 0, d) }}
		fmt.Printf("day %d: %d new versions\n", d, importList(list, opt, latest))
	}
	// Output:
	// line 4: "not-an-ioc": not a recognised indicator
	// day 0: 2 new versions
	// line 4: "not-an-ioc": not a recognised indicator
	// day 1: 0 new versions
	// line 4: "not-an-ioc": not a recognised indicator
	// day 20: 2 new versions
}

// The indicator for an address with a port. The id is the same on every
// machine and in every release: it depends only on Namespace, the source,
// the type and the value.
func ExampleIndicator() {
	ioc := ingest.IOC{Type: ingest.TypeIPv4, Value: "198.51.100.7", Port: 8443}
	obj, _ := ingest.Indicator(ioc, ingest.ListOptions{
		Source: "Example CERT", Confidence: 70, TLP: "amber",
		Now: func() time.Time { return time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) },
	})
	fmt.Println(obj.ID)
	fmt.Println(string(obj.Raw))
	// Output:
	// indicator--f2e66f46-eccc-5280-8cdf-a1cd7f0ec56f
	// {"type":"indicator","spec_version":"2.1","id":"indicator--f2e66f46-eccc-5280-8cdf-a1cd7f0ec56f","created_by_ref":"identity--3718970c-408f-5906-b2be-0327bad82db3","created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z","name":"198.51.100.7:8443","indicator_types":["malicious-activity"],"pattern":"[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 8443]","pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-05-01T00:00:00.000Z","confidence":70,"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}
}
