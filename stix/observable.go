package stix

import (
	"encoding/json"
	"hail/jsonscan"
	"net/netip"
	"strconv"
	"strings"

	"hail"
)

// observableTypes are the SCO types of STIX 2.1 §6.
var observableTypes = []string{
	"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
	"ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
	"user-account", "windows-registry-key", "x509-certificate",
}

// observableSchemas returns the schemas of the SCOs (STIX 2.1 §6). SCOs are
// not versioned: created and modified are not required.
func observableSchemas() map[string]*schema {
	sco := func(specific []field, rules ...rule) *schema {
		return newSchema(observableCommon, specific, rules...)
	}
	size := integer(0, maxInteger)
	addr := func(check checker, resolvesTo string) *schema {
		return sco([]field{req("value", all(text, check)),
			opt("resolves_to_refs", list(ref(resolvesTo))),
			opt("belongs_to_refs", list(ref("autonomous-system")))})
	}
	return map[string]*schema{
		// §6.1
		"artifact": sco([]field{opt("mime_type", str), opt("payload_bin", str), opt("url", str), opt("hashes", hashes),
			opt("encryption_algorithm", enum("aes-256-gcm", "chacha20-poly1305", "mime-type-indicated")),
			opt("decryption_key", str)},
			anyOf("An artifact", "payload_bin", "url"), exclusive("payload_bin", "url"),
			needs("url", "hashes"), needs("decryption_key", "encryption_algorithm")),
		// §6.2
		"autonomous-system": sco([]field{req("number", integer(0, maxInteger)), opt("name", str), opt("rir", str)}),
		// §6.3
		"directory": sco([]field{req("path", text), opt("path_enc", str), opt("ctime", timestamp),
			opt("mtime", timestamp), opt("atime", timestamp), opt("contains_refs", list(ref("file", "directory")))}),
		// §6.4
		"domain-name": sco([]field{req("value", text),
			opt("resolves_to_refs", list(ref("ipv4-addr", "ipv6-addr", "domain-name")))}),
		// §6.5
		"email-addr": sco([]field{req("value", text), opt("display_name", str),
			opt("belongs_to_ref", ref("user-account"))}),
		// §6.6
		"email-message": sco([]field{req("is_multipart", boolean), opt("date", timestamp), opt("content_type", str),
			opt("from_ref", ref("email-addr")), opt("sender_ref", ref("email-addr")),
			opt("to_refs", list(ref("email-addr"))), opt("cc_refs", list(ref("email-addr"))),
			opt("bcc_refs", list(ref("email-addr"))), opt("message_id", str), opt("subject", str),
			opt("received_lines", stringList), opt("additional_header_fields", dictionary(nil)), opt("body", str),
			opt("body_multipart", list(mimePart)), opt("raw_email_ref", ref("artifact"))},
			emailBody),
		// §6.7
		"file": sco([]field{opt("hashes", hashes), opt("size", size), opt("name", str), opt("name_enc", str),
			opt("magic_number_hex", hexString), opt("mime_type", str), opt("ctime", timestamp),
			opt("mtime", timestamp), opt("atime", timestamp), opt("parent_directory_ref", ref("directory")),
			opt("contains_refs", idList), opt("content_ref", ref("artifact"))},
			anyOf("A file", "hashes", "name")),
		// §6.8, §6.9
		"ipv4-addr": addr(ipAddress(true), "mac-addr"),
		"ipv6-addr": addr(ipAddress(false), "mac-addr"),
		// §6.10
		"mac-addr": sco([]field{req("value", all(text, macAddress))}),
		// §6.11
		"mutex": sco([]field{req("name", text)}),
		// §6.12
		"network-traffic": sco([]field{opt("start", timestamp), opt("end", timestamp), opt("is_active", boolean),
			opt("src_ref", ref("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")),
			opt("dst_ref", ref("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")),
			opt("src_port", integer(0, 65535)), opt("dst_port", integer(0, 65535)), req("protocols", stringList),
			opt("src_byte_count", size), opt("dst_byte_count", size), opt("src_packets", size),
			opt("dst_packets", size), opt("ipfix", dictionary(nil)), opt("src_payload_ref", ref("artifact")),
			opt("dst_payload_ref", ref("artifact")), opt("encapsulates_refs", list(ref("network-traffic"))),
			opt("encapsulated_by_ref", ref("network-traffic"))},
			anyOf("A network-traffic", "src_ref", "dst_ref"), ordered("start", "end", false), activeTraffic),
		// §6.13
		"process": sco(processFields, anyOf("A process", append(names(processFields), "extensions")...)),
		// §6.14
		"software": sco([]field{req("name", text), opt("cpe", str), opt("swid", str), opt("languages", stringList),
			opt("vendor", str), opt("version", str)}),
		// §6.15
		"url": sco([]field{req("value", text)}),
		// §6.16
		"user-account": sco(userAccountFields, anyOf("A user-account", append(names(userAccountFields), "extensions")...)),
		// §6.17
		"windows-registry-key": sco(registryKeyFields, anyOf("A windows-registry-key", names(registryKeyFields)...)),
		// §6.18
		"x509-certificate": sco(certificateFields, anyOf("An x509-certificate", names(certificateFields)...)),
	}
}

// The SCOs whose properties are all optional, of which at least one must be
// present.
var (
	processFields = []field{opt("is_hidden", boolean), opt("pid", integer(0, maxInteger)),
		opt("created_time", timestamp), opt("cwd", str), opt("command_line", str),
		opt("environment_variables", dictionary(nil)), opt("opened_connection_refs", list(ref("network-traffic"))),
		opt("creator_user_ref", ref("user-account")), opt("image_ref", ref("file")), opt("parent_ref", ref("process")),
		opt("child_refs", list(ref("process")))}
	userAccountFields = []field{opt("user_id", str), opt("credential", str), opt("account_login", str),
		opt("account_type", str), opt("display_name", str), opt("is_service_account", boolean),
		opt("is_privileged", boolean), opt("can_escalate_privs", boolean), opt("is_disabled", boolean),
		opt("account_created", timestamp), opt("account_expires", timestamp), opt("credential_last_changed", timestamp),
		opt("account_first_login", timestamp), opt("account_last_login", timestamp)}
	registryKeyFields = []field{opt("key", text), opt("values", list(registryValue)), opt("modified_time", timestamp),
		opt("creator_user_ref", ref("user-account")), opt("number_of_subkeys", integer(0, maxInteger))}
	certificateFields = []field{opt("is_self_signed", boolean), opt("hashes", hashes), opt("version", str),
		opt("serial_number", str), opt("signature_algorithm", str), opt("issuer", str),
		opt("validity_not_before", timestamp), opt("validity_not_after", timestamp), opt("subject", str),
		opt("subject_public_key_algorithm", str), opt("subject_public_key_modulus", str),
		opt("subject_public_key_exponent", integer(0, maxInteger)), opt("x509_v3_extensions", dictionary(nil))}
)

func names(fields []field) []string {
	n := make([]string, len(fields))
	for i, f := range fields {
		n[i] = f.name
	}
	return n
}

// mimePart checks one email-mime-part-type (STIX 2.1 §6.6.2).
var mimePart = object(opt("body", str), opt("body_raw_ref", ref("artifact", "file")), opt("content_type", str),
	opt("content_disposition", str))

// registryValue checks one windows-registry-value-type (STIX 2.1 §6.17.2):
// all optional, at least one present.
func registryValue(v json.RawMessage) *fault {
	if f := object(opt("name", str), opt("data", str), opt("data_type", str))(v); f != nil {
		return f
	}
	m, _ := decodeObject(v)
	if len(m) == 0 {
		return faultf(`needs at least one of "name", "data" or "data_type"`)
	}
	return nil
}

// emailBody: body only when is_multipart is false, body_multipart only when
// it is true (STIX 2.1 §6.6.1).
func emailBody(p props) error {
	multipart := strings.TrimSpace(string(p["is_multipart"])) == "true"
	if multipart && p.has("body") {
		return hail.Errorf(hail.EUNPROCESSABLE, `Property "body" must not be present when "is_multipart" is true.`)
	}
	if !multipart && p.has("body_multipart") {
		return hail.Errorf(hail.EUNPROCESSABLE, `Property "body_multipart" must not be present when "is_multipart" is false.`)
	}
	return nil
}

// activeTraffic: "If the is_active property is true, then the end property
// MUST NOT be included" (STIX 2.1 §6.12.1).
func activeTraffic(p props) error {
	if strings.TrimSpace(string(p["is_active"])) == "true" && p.has("end") {
		return hail.Errorf(hail.EUNPROCESSABLE, `Property "end" must not be present when "is_active" is true.`)
	}
	return nil
}

// ipAddress accepts an IPv4 (v4) or IPv6 address or CIDR block (STIX 2.1
// §6.8, §6.9). Surrounding blanks are forgiven.
func ipAddress(v4 bool) checker {
	return func(v json.RawMessage) *fault {
		s, _ := jsonscan.String(v)
		s = strings.TrimSpace(s)
		var a netip.Addr
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return faultf("is not an IP address or CIDR block: " + strconv.Quote(s))
			}
			a = p.Addr()
		} else {
			var err error
			if a, err = netip.ParseAddr(s); err != nil {
				return faultf("is not an IP address or CIDR block: " + strconv.Quote(s))
			}
		}
		if v4 && !a.Is4() {
			return faultf("is not an IPv4 address: " + strconv.Quote(s))
		}
		if !v4 && !a.Is6() {
			return faultf("is not an IPv6 address: " + strconv.Quote(s))
		}
		return nil
	}
}

// macAddress accepts a MAC-48 address: six two-digit hex octets. STIX 2.1
// §6.10 asks for lowercase and ':'; upper case and '-' are forgiven, the
// address is the same.
func macAddress(v json.RawMessage) *fault {
	s, _ := jsonscan.String(v)
	t := strings.TrimSpace(s)
	ok := len(t) == 17
	for i := 0; ok && i < len(t); i++ {
		c := t[i]
		if i%3 == 2 {
			ok = c == ':' || c == '-'
		} else {
			ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		}
	}
	if !ok {
		return faultf("is not a MAC-48 address (aa:bb:cc:dd:ee:ff): " + strconv.Quote(s))
	}
	return nil
}

// hexString accepts the hex type (STIX 2.1 §2.8): an even number of hex
// digits. Upper case is forgiven.
func hexString(v json.RawMessage) *fault {
	s, ok := jsonscan.String(v)
	if !ok {
		return faultf("must be a string")
	}
	if len(s)%2 != 0 || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
	}) >= 0 {
		return faultf("must be an even number of hexadecimal digits")
	}
	return nil
}
