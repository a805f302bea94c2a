package feed

import "testing"

func TestMISPFeedURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://www.circl.lu/doc/misp/feed-osint":                "https://www.circl.lu/doc/misp/feed-osint/manifest.json",
		"https://threatfox.abuse.ch/downloads/misp/":              "https://threatfox.abuse.ch/downloads/misp/manifest.json",
		"https://feeds.example/misp/manifest.json?token=t":        "https://feeds.example/misp/manifest.json?token=t",
		"https://misp.example/events/view/5d9b516c.json":          "",
		"https://feeds.example/misp/5d9b516c-e5f0-4e7c-a958.JSON": "",
	} {
		got := ""
		if u, ok := mispFeedURL(raw); ok {
			got = u.String()
		}
		if got != want {
			t.Errorf("mispFeedURL(%q) = %q, want %q", raw, got, want)
		}
	}
	m, _ := mispFeedURL("https://feeds.example/misp/manifest.json?token=t")
	if got := eventURL(m, "5d9b516c-e5f0-4e7c-a958-5d8c0a019371"); got != "https://feeds.example/misp/5d9b516c-e5f0-4e7c-a958-5d8c0a019371.json?token=t" {
		t.Errorf("eventURL = %q", got)
	}
}
