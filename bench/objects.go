package bench

import (
	"strconv"
	"time"
)

// share is one entry of a weighted choice, in percent.
type share struct {
	name    string
	percent uint64
}

// types is the mix of the data set, close to what a CERT's or ISAC's
// indicator feed holds: mostly indicators, the relationships and sightings
// around them, and the malware, vulnerabilities and organisations they name.
var types = []share{
	{"indicator", 58},
	{"relationship", 18},
	{"sighting", 7},
	{"vulnerability", 6},
	{"malware", 6},
	{"identity", 5},
}

// indicatorKinds is the mix of observable kinds in indicator patterns: every
// kind hail's IOC extraction knows, and some compound patterns.
var indicatorKinds = []share{
	{"ipv4-addr", 22},
	{"domain-name", 20},
	{"url", 17},
	{"file:SHA-256", 14},
	{"file:MD5", 6},
	{"file:SHA-1", 6},
	{"ipv6-addr", 5},
	{"email-addr", 5},
	{"compound", 5},
}

// choose picks from shares with a number r in [0, 100).
func choose(shares []share, r uint64) share {
	for _, s := range shares {
		if r < s.percent {
			return s
		}
		r -= s.percent
	}
	return shares[len(shares)-1]
}

func (g *Generator) kind(k uint64) string {
	if g.indicatorsOnly {
		return "indicator"
	}
	return choose(types, g.hash(saltKind, k)%100).name
}

func (g *Generator) indicatorKind(k uint64) share {
	return choose(indicatorKinds, g.hash(saltIndicator, k)%100)
}

// The TLP 1.0 marking definitions predefined by STIX 2.1 §7.2.1.4, which
// feeds and Microsoft Sentinel use.
var tlpMarkings = []string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", // white
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", // green
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", // green again: the most common
	"marking-definition--f88d31f6-486f-44a5-b6aa-26da29a7d8d2", // amber
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", // red
}

// appendObject appends version p.v of object p.k as JSON. Properties that
// identify the object (its name, pattern, references) come from a random
// stream seeded by the object alone, so they stay the same across versions;
// those a revision changes (confidence, validity, description) from a stream
// seeded by the version.
func (g *Generator) appendObject(b []byte, p pos) []byte {
	typ := g.kind(p.k)
	fixed := &rng{g.hash(saltBody, p.k)}
	varying := &rng{g.hash(saltVersion, p.k<<3|uint64(p.v))}
	created := g.created(p.k)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","spec_version":"2.1","id":"`...)
	b = g.appendID(b, typ, p.k)
	b = append(b, '"')
	b = appendTime(b, "created", created)
	b = appendTime(b, "modified", g.modified(p.k, p.v))
	if typ != "identity" {
		b = append(b, `,"created_by_ref":"`...)
		b = g.appendID(b, "identity", g.near(p.k, "identity", fixed))
		b = append(b, '"')
	}
	switch typ {
	case "indicator":
		b = g.appendIndicator(b, p, fixed, varying, created)
	case "relationship":
		b = g.appendRelationship(b, p, fixed)
	case "sighting":
		b = g.appendSighting(b, p, fixed, varying, created)
	case "vulnerability":
		b = appendVulnerability(b, fixed)
	case "malware":
		b = appendMalware(b, fixed, created)
	case "identity":
		b = appendIdentity(b, p.k, fixed)
	}
	if typ != "relationship" && typ != "identity" {
		b = append(b, `,"confidence":`...)
		b = strconv.AppendInt(b, int64(15+varying.intn(86)), 10)
	}
	b = append(b, `,"object_marking_refs":["`...)
	b = append(b, pick(fixed, tlpMarkings)...)
	b = append(b, `"]`...)
	if p.v == g.versions(p.k) && g.revoked(p.k) {
		b = append(b, `,"revoked":true`...)
	}
	return append(b, '}')
}

func (g *Generator) appendIndicator(b []byte, p pos, fixed, varying *rng, created time.Time) []byte {
	kind := g.indicatorKind(p.k).name
	var pattern, what []byte
	pattern, what = appendPattern(pattern, what, kind, fixed)
	b = append(b, `,"name":"`...)
	b = append(b, what...)
	b = append(b, `","description":"`...)
	b = append(b, pick(fixed, descriptions)...)
	b = append(b, " Seen in campaign "...)
	b = strconv.AppendInt(b, int64(fixed.intn(5000)), 10)
	b = append(b, ", revision "...)
	b = strconv.AppendInt(b, int64(p.v), 10)
	b = append(b, `.","indicator_types":["`...)
	b = append(b, pick(fixed, indicatorTypes)...)
	b = append(b, `"],"pattern":"`...)
	b = append(b, pattern...)
	b = append(b, `","pattern_type":"stix","pattern_version":"2.1"`...)
	b = appendTime(b, "valid_from", created)
	// A revision usually extends how long the indicator is trusted.
	until := created.Add(time.Duration(30+varying.intn(335)+60*(p.v-1)) * 24 * time.Hour)
	b = appendTime(b, "valid_until", until)
	if fixed.intn(10) < 3 {
		b = append(b, `,"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"`...)
		b = append(b, pick(fixed, phases)...)
		b = append(b, `"}]`...)
	}
	b = append(b, `,"labels":["`...)
	b = append(b, pick(fixed, labels)...)
	b = append(b, `"],"external_references":[{"source_name":"hail-bench","url":"https://intel.example.org/ioc/`...)
	b = strconv.AppendUint(b, p.k, 10)
	return append(b, `"}]`...)
}

// appendPattern appends an indicator's STIX pattern to pattern and a short
// name for it to what.
func appendPattern(pattern, what []byte, kind string, r *rng) ([]byte, []byte) {
	switch kind {
	case "ipv4-addr":
		addr := appendIPv4(nil, r)
		if r.intn(10) == 0 {
			// A network rather than a host, as blocklists publish them
			// (STIX 2.1 §6.1: the value may be a CIDR block).
			addr = append(addr[:len(addr)-len(lastOctet(addr))], "0/24"...)
		}
		pattern = append(append(append(pattern, "[ipv4-addr:value = '"...), addr...), "']"...)
		what = append(append(what, "Malicious IPv4 "...), addr...)
	case "ipv6-addr":
		addr := appendIPv6(nil, r)
		pattern = append(append(append(pattern, "[ipv6-addr:value = '"...), addr...), "']"...)
		what = append(append(what, "Malicious IPv6 "...), addr...)
	case "domain-name":
		d := appendDomain(nil, r)
		pattern = append(append(append(pattern, "[domain-name:value = '"...), d...), "']"...)
		what = append(append(what, "Malicious domain "...), d...)
	case "url":
		u := appendURL(nil, r)
		pattern = append(append(append(pattern, "[url:value = '"...), u...), "']"...)
		what = append(what, "Malicious URL"...)
	case "file:SHA-256", "file:MD5", "file:SHA-1":
		algo := kind[len("file:"):]
		h := appendHex(nil, r, hashLength(algo))
		pattern = append(pattern, "[file:hashes."...)
		if algo == "MD5" {
			pattern = append(pattern, algo...)
		} else {
			pattern = append(append(append(pattern, '\''), algo...), '\'')
		}
		pattern = append(append(append(pattern, " = '"...), h...), "']"...)
		what = append(append(append(append(what, "Malicious file "...), algo...), ' '), h[:12]...)
	case "email-addr":
		e := append(append(appendLabel(nil, r, 5, 10), '@'), appendDomain(nil, r)...)
		pattern = append(append(append(pattern, "[email-addr:value = '"...), e...), "']"...)
		what = append(append(what, "Phishing sender "...), e...)
	default: // compound
		h := appendHex(nil, r, 64)
		pattern = append(append(pattern, "[file:hashes.'SHA-256' = '"...), h...)
		pattern = append(append(append(pattern, "' AND file:name = '"...), appendLabel(nil, r, 5, 12)...), ".exe'] OR [domain-name:value = '"...)
		pattern = append(append(pattern, appendDomain(nil, r)...), "']"...)
		what = append(append(what, "Dropper and its C2 "...), h[:12]...)
	}
	return pattern, what
}

// hashLength is the number of hex digits of a hash algorithm's values.
func hashLength(algo string) int {
	switch algo {
	case "MD5":
		return 32
	case "SHA-1":
		return 40
	}
	return 64
}

func lastOctet(addr []byte) []byte {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '.' {
			return addr[i+1:]
		}
	}
	return addr
}

func (g *Generator) appendRelationship(b []byte, p pos, fixed *rng) []byte {
	rel := pick(fixed, relationships)
	b = append(b, `,"relationship_type":"`...)
	b = append(b, rel.name...)
	b = append(b, `","source_ref":"`...)
	b = g.appendID(b, rel.source, g.near(p.k, rel.source, fixed))
	b = append(b, `","target_ref":"`...)
	b = g.appendID(b, rel.target, g.near(p.k, rel.target, fixed))
	b = append(b, '"')
	if fixed.intn(4) == 0 {
		b = append(b, `,"description":"Analyst assessment `...)
		b = strconv.AppendInt(b, int64(fixed.intn(100000)), 10)
		b = append(b, '"')
	}
	return b
}

func (g *Generator) appendSighting(b []byte, p pos, fixed, varying *rng, created time.Time) []byte {
	b = append(b, `,"sighting_of_ref":"`...)
	b = g.appendID(b, "indicator", g.near(p.k, "indicator", fixed))
	b = append(b, `","where_sighted_refs":["`...)
	b = g.appendID(b, "identity", g.near(p.k, "identity", fixed))
	b = append(b, `"],"count":`...)
	b = strconv.AppendInt(b, int64(1+varying.intn(500)*p.v), 10)
	b = appendTime(b, "first_seen", created.Add(-time.Duration(1+fixed.intn(72))*time.Hour))
	return appendTime(b, "last_seen", g.modified(p.k, p.v))
}

func appendVulnerability(b []byte, r *rng) []byte {
	cve := append([]byte("CVE-"), strconv.Itoa(2015+r.intn(11))...)
	cve = append(cve, '-')
	cve = strconv.AppendInt(cve, int64(1000+r.intn(60000)), 10)
	b = append(b, `,"name":"`...)
	b = append(b, cve...)
	b = append(b, `","description":"`...)
	b = append(b, pick(r, vulnerabilities)...)
	b = append(b, `","external_references":[{"source_name":"cve","external_id":"`...)
	b = append(b, cve...)
	b = append(b, `"},{"source_name":"nvd","url":"https://nvd.nist.gov/vuln/detail/`...)
	b = append(b, cve...)
	return append(b, `"}]`...)
}

func appendMalware(b []byte, r *rng, created time.Time) []byte {
	name := appendLabel(nil, r, 4, 9)
	name[0] -= 'a' - 'A'
	b = append(b, `,"name":"`...)
	b = append(b, name...)
	b = append(b, `","description":"`...)
	b = append(b, pick(r, descriptions)...)
	b = append(b, `","malware_types":["`...)
	b = append(b, pick(r, malwareTypes)...)
	b = append(b, `"],"is_family":true,"aliases":["`...)
	b = append(b, name...)
	b = append(b, "Loader"...)
	b = append(b, `"]`...)
	b = appendTime(b, "first_seen", created.Add(-time.Duration(1+r.intn(900))*24*time.Hour))
	if r.intn(2) == 0 {
		b = append(b, `,"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"`...)
		b = append(b, pick(r, phases)...)
		b = append(b, `"}]`...)
	}
	return b
}

func appendIdentity(b []byte, k uint64, r *rng) []byte {
	b = append(b, `,"name":"`...)
	b = append(b, pick(r, orgKinds)...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, k, 10)
	b = append(b, `","identity_class":"organization","sectors":["`...)
	b = append(b, pick(r, sectors)...)
	b = append(b, `"],"contact_information":"soc-`...)
	b = strconv.AppendUint(b, k, 10)
	return append(b, `@example.org"`...)
}

// near returns the number of an object of type typ published shortly before
// object k, so that references mostly resolve within the data set. The
// search is bounded; when it finds none, the reference dangles (to a number
// no object of the run has), as references to another feed's objects do.
func (g *Generator) near(k uint64, typ string, r *rng) uint64 {
	if span := k - g.base; span > 0 {
		j := k - 1 - uint64(r.intn(int(min(span, 2000))))
		for i := 0; i < 64; i++ {
			if g.kind(j) == typ {
				return j
			}
			if j == g.base {
				break
			}
			j--
		}
	}
	return k | danglingBit
}

// danglingBit marks object numbers that no generator emits: above any
// loaded set, below ingestBase.
const danglingBit = 1 << 39

// appendID appends typ--UUID, a version 4 UUID derived from object k.
func (g *Generator) appendID(b []byte, typ string, k uint64) []byte {
	var u [16]byte
	h1, h2 := g.hash(saltID1, k), g.hash(saltID2, k)
	for i := 0; i < 8; i++ {
		u[i], u[8+i] = byte(h1>>(8*i)), byte(h2>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	b = append(b, typ...)
	b = append(b, "--"...)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendTime appends ,"key":"timestamp" with millisecond precision.
func appendTime(b []byte, key string, t time.Time) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":"`...)
	b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

func appendHex(b []byte, r *rng, n int) []byte {
	var v uint64
	for i := 0; i < n; i++ {
		if i%16 == 0 {
			v = r.next()
		}
		b = append(b, hexDigits[v&15])
		v >>= 4
	}
	return b
}

func appendIPv4(b []byte, r *rng) []byte {
	b = strconv.AppendInt(b, int64(1+r.intn(223)), 10)
	for i := 0; i < 3; i++ {
		b = strconv.AppendInt(append(b, '.'), int64(r.intn(256)), 10)
	}
	return b
}

func appendIPv6(b []byte, r *rng) []byte {
	b = append(b, "2001:db8:"...)
	for i := 0; i < 3; i++ {
		b = strconv.AppendUint(b, uint64(r.intn(0x10000)), 16)
		b = append(b, ':')
	}
	return strconv.AppendUint(append(b, ':'), uint64(1+r.intn(0xffff)), 16)
}

// appendLabel appends min to max-1 lower-case letters, alternating
// consonants and vowels so that names look like words.
func appendLabel(b []byte, r *rng, minLen, maxLen int) []byte {
	const consonants, vowels = "bcdfghklmnprstvz", "aeiou"
	n := minLen + r.intn(maxLen-minLen)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			b = append(b, consonants[r.intn(len(consonants))])
		} else {
			b = append(b, vowels[r.intn(len(vowels))])
		}
	}
	return b
}

func appendDomain(b []byte, r *rng) []byte {
	b = appendLabel(b, r, 5, 13)
	if r.intn(3) == 0 {
		b = appendLabel(append(b, '-'), r, 3, 7)
	}
	return append(append(b, '.'), pick(r, tlds)...)
}

func appendURL(b []byte, r *rng) []byte {
	b = append(b, pick(r, []string{"http://", "https://"})...)
	b = appendDomain(b, r)
	b = append(b, '/')
	b = appendLabel(b, r, 3, 9)
	b = append(b, '/')
	b = appendLabel(b, r, 4, 10)
	b = append(b, pick(r, []string{".php", ".exe", ".zip", "/login", ".js"})...)
	if r.intn(2) == 0 {
		b = strconv.AppendInt(append(b, "?id="...), int64(r.intn(1000000)), 10)
	}
	return b
}

// relationship is one kind of edge of the graph: its type and the types it
// joins.
type relationship struct{ name, source, target string }

var relationships = []relationship{
	{"indicates", "indicator", "malware"},
	{"indicates", "indicator", "malware"},
	{"indicates", "indicator", "malware"},
	{"exploits", "malware", "vulnerability"},
	{"targets", "malware", "identity"},
	{"variant-of", "malware", "malware"},
	{"related-to", "indicator", "indicator"},
	{"based-on", "indicator", "indicator"},
}

var (
	descriptions = []string{
		"Observed in a phishing wave against the finance sector.",
		"Command and control infrastructure of a ransomware affiliate.",
		"Reported by a member organisation after an incident response engagement.",
		"Hosting a credential harvesting page impersonating a webmail provider.",
		"Delivered through a malicious document attachment with macros.",
		"Scanning for exposed VPN appliances from this address.",
		"Second stage payload retrieved by the loader over HTTPS.",
		"Listed by a national CERT advisory.",
	}
	indicatorTypes  = []string{"malicious-activity", "anomalous-activity", "attribution", "compromised", "benign"}
	labels          = []string{"phishing", "c2", "botnet", "ransomware", "scanner", "malware-distribution"}
	phases          = []string{"initial-access", "execution", "persistence", "command-and-control", "exfiltration", "impact"}
	malwareTypes    = []string{"ransomware", "trojan", "backdoor", "bot", "spyware", "dropper", "remote-access-trojan"}
	vulnerabilities = []string{
		"Remote code execution in a widely deployed VPN appliance.",
		"Authentication bypass in a web administration console.",
		"Deserialisation flaw exploited in the wild by ransomware operators.",
		"Privilege escalation in a kernel driver.",
	}
	orgKinds = []string{"CERT", "ISAC", "Bank", "Hospital", "Utility", "Ministry", "Telecom"}
	sectors  = []string{"financial-services", "healthcare", "energy", "government-national", "telecommunications", "education"}
	tlds     = []string{"com", "net", "org", "info", "xyz", "top", "ru", "cn", "io"}
)
