package stix_test

import (
	"encoding/json"
	"testing"

	"hail"
	"hail/stix"
)

func TestConvert20(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{
			"indicator",
			`{"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "labels": ["malicious-activity"], "name": "Poison Ivy Malware", "pattern": "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']", "valid_from": "2016-01-01T00:00:00Z"}`,
			`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"name":"Poison Ivy Malware","pattern":"[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`,
		},
		{
			"indicator keeps other labels and its pattern_type",
			`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","labels":["misp:type=\"domain\"","Malicious-Activity ","benign"],"pattern":"[domain-name:value = 'example.com']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`,
			`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","labels":["misp:type=\"domain\""],"indicator_types":["malicious-activity","benign"],"pattern":"[domain-name:value = 'example.com']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`,
		},
		{
			"malware",
			`{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","labels":["remote-access-trojan"],"x_acme_score":7}`,
			`{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","malware_types":["remote-access-trojan"],"is_family":true,"x_acme_score":7}`,
		},
		{
			"malware keeps is_family",
			`{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","is_family":false,"name":"x.exe","labels":["dropper"]}`,
			`{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","is_family":false,"name":"x.exe","malware_types":["dropper"]}`,
		},
		{
			"tool",
			`{"type":"tool","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"VNC","labels":["remote-access"]}`,
			`{"type":"tool","spec_version":"2.1","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"VNC","tool_types":["remote-access"]}`,
		},
		{
			"threat-actor",
			`{"type":"threat-actor","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Evil Org","labels":["crime-syndicate"]}`,
			`{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Evil Org","threat_actor_types":["crime-syndicate"]}`,
		},
		{
			"report with a label outside the vocabulary",
			`{"type":"report","id":"report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Report","labels":["campaign","misp:tool=\"MISP-STIX-Converter\""],"published":"2016-04-06T20:07:09Z","object_refs":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}`,
			`{"type":"report","spec_version":"2.1","id":"report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Report","labels":["misp:tool=\"MISP-STIX-Converter\""],"report_types":["campaign"],"published":"2016-04-06T20:07:09Z","object_refs":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}`,
		},
		{
			"identity keeps identity_class; id put first",
			`{"name":"ACME","id":"identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","identity_class":"organization","type":"identity"}`,
			`{"type":"identity","spec_version":"2.1","id":"identity--023d105b-752e-4e3c-941c-7d3f3cb15e9e","name":"ACME","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","identity_class":"organization"}`,
		},
		{
			"observed-data keeps its container",
			`{"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":1,"objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"},"1":{"type":"network-traffic","dst_ref":"0","protocols":["tcp"]}}}`,
			`{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":1,"objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"},"1":{"type":"network-traffic","dst_ref":"0","protocols":["tcp"]}}}`,
		},
		{
			"relationship with spec_version 2.0",
			`{"type":"relationship","spec_version":"2.0","id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`,
			`{"type":"relationship","spec_version":"2.1","id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`,
		},
		{
			"already 2.1",
			`{"type": "url", "spec_version": "2.1", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://example.com/"}`,
			`{"type":"url","spec_version":"2.1","id":"url--c1477287-23ac-5971-a010-5c287877fa60","value":"https://example.com/"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stix.Convert20([]byte(tc.in))
			if err != nil {
				t.Fatalf("got %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if err := validate(got); err != nil {
				t.Errorf("converted object does not validate: %v", err)
			}
		})
	}
}

func TestConvert20Rejects(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`"indicator"`,
		`{"type":"indicator"`,
		`{"type":"indicator"} {}`,
		`{"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`,
		`{"type":7}`,
		`{"type":"indicator","spec_version":"1.0"}`,
	} {
		_, err := stix.Convert20([]byte(in))
		if code := hail.ErrorCode(err); code != hail.EUNPROCESSABLE {
			t.Errorf("Convert20(%s): got code %q (%v), want %q", in, code, err, hail.EUNPROCESSABLE)
		}
	}
}

// TestConvert20Idempotent: converting converted output changes nothing.
func TestConvert20Idempotent(t *testing.T) {
	once, err := stix.Convert20([]byte(`{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","labels":["bot","x"],"name":"n"}`))
	if err != nil {
		t.Fatal(err)
	}
	twice, err := stix.Convert20(once)
	if err != nil {
		t.Fatal(err)
	}
	if string(once) != string(twice) {
		t.Errorf("second conversion: got %s, want %s", twice, once)
	}
	if !json.Valid(once) {
		t.Errorf("output is not JSON: %s", once)
	}
}

func BenchmarkConvert20(b *testing.B) {
	in := []byte(`{"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z", "labels": ["malicious-activity"], "name": "Poison Ivy Malware", "pattern": "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']", "valid_from": "2016-01-01T00:00:00Z"}`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stix.Convert20(in); err != nil {
			b.Fatal(err)
		}
	}
}
