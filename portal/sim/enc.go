package sim

import (
	"strconv"
	"unicode/utf8"
)

// The wire objects are encoded by hand: list calls are the hot path and
// encoding/json's reflection would dominate them. enc_test.go checks the
// output against encoding/json.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStringField(b []byte, key, v string) []byte {
	return appendString(appendKey(b, key), v)
}

func appendIntField(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, key), v, 10)
}

// appendInt appends v as a JSON number, or as a string when quoted.
func appendInt(b []byte, v int64, quoted bool) []byte {
	if !quoted {
		return strconv.AppendInt(b, v, 10)
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"')
}

// appendNumField appends an int field, quoted when the dialect says so.
func appendNumField(b []byte, key string, v int64, quoted bool) []byte {
	return appendInt(appendKey(b, key), v, quoted)
}

// appendColleague appends the wire object of wire.md in dialect d, without the
// simulator's own fields.
func appendColleague(b []byte, c *Colleague, d *Dialect) []byte {
	ids, all := d.idStrings(), d.allStrings()
	b = append(b, '{')
	b = appendNumField(b, "colleaguesId", c.ColleaguesID, ids)
	b = append(b, ',')
	b = appendStringField(b, "yeastarId", c.YeastarID)
	b = append(b, ',')
	b = appendStringField(b, "firstName", c.FirstName)
	b = append(b, ',')
	b = appendStringField(b, "lastName", c.LastName)
	b = append(b, ',')
	b = appendStringField(b, "userStatus", c.UserStatus)
	b = append(b, ',')
	b = appendNumField(b, "twoFactorAuthentication", int64(c.TwoFactorAuthentication), ids)
	b = append(b, `,"resourceIds":[`...)
	for i, id := range c.ResourceIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, id, all)
	}
	b = append(b, "],"...)
	b = appendNumField(b, "isRmUser", int64(c.IsRmUser), all)
	b = append(b, ',')
	b = appendStringField(b, "remark", c.Remark)
	b = append(b, ',')
	b = appendNumField(b, "ownerId", c.OwnerID, ids)
	b = append(b, ',')
	b = appendNumField(b, "createTime", c.CreateTime, all)
	return append(b, '}')
}

// appendPBX appends the wire object of wire.md in dialect d, without the
// simulator's own fields.
func appendPBX(b []byte, p *PBX, d *Dialect) []byte {
	b = append(b, '{')
	b = appendIntField(b, "cloudPbxId", p.CloudPbxID)
	b = append(b, ',')
	b = appendStringField(b, "sn", p.SN)
	b = append(b, ',')
	b = appendStringField(b, "name", p.Name)
	b = append(b, ',')
	b = appendStringField(b, "plan", p.Plan)
	b = append(b, ',')
	b = appendIntField(b, "extensionCapacity", int64(p.ExtensionCapacity))
	b = append(b, ',')
	b = appendIntField(b, "concurrentCallCapacity", int64(p.ConcurrentCallCapacity))
	b = append(b, ',')
	b = appendStringField(b, "recordingStatus", p.RecordingStatus)
	b = append(b, ',')
	b = appendIntField(b, "recordingCapacity", int64(p.RecordingCapacity))
	if p.TranscriptionCapacity > 0 {
		b = append(b, ',')
		b = appendIntField(b, "transcriptionCapacity", int64(p.TranscriptionCapacity))
	}
	b = append(b, ',')
	b = appendStringField(b, "pbxStatus", p.PbxStatus)
	b = append(b, ',')
	b = appendStringField(b, "activationStatus", p.ActivationStatus)
	b = append(b, ',')
	b = appendStringField(b, "url", p.URL)
	b = append(b, ',')
	b = appendStringField(b, "region", p.Region)
	if d.ExtensionUsed == ExtensionUsedPresent {
		b = append(b, ',')
		b = appendIntField(b, "extensionUsed", int64(p.ExtensionUsed))
	}
	return append(b, '}')
}

func appendPermission(b []byte, p *Permission, d *Dialect) []byte {
	b = append(b, '{')
	b = appendNumField(b, "resourceId", p.ResourceID, d.allStrings())
	b = append(b, ',')
	b = appendStringField(b, "resourceName", p.ResourceName)
	return append(b, '}')
}

// appendPartner appends a subordinate partner; userType only in the
// documented plain list.
func appendPartner(b []byte, p *Partner, d *Dialect) []byte {
	b = append(b, '{')
	b = appendNumField(b, "partnerId", p.PartnerID, d.idStrings())
	b = append(b, ',')
	b = appendStringField(b, "email", p.Email)
	b = append(b, ',')
	b = appendStringField(b, "company", p.Company)
	if d.Partners == PartnersArray {
		b = append(b, ',')
		b = appendStringField(b, "userType", p.UserType)
	}
	return append(b, '}')
}

func appendYCMUser(b []byte, u *YCMUser) []byte {
	b = append(b, '{')
	b = appendIntField(b, "userId", u.UserID)
	b = append(b, ',')
	b = appendStringField(b, "email", u.Email)
	b = append(b, ',')
	b = appendStringField(b, "firstName", u.FirstName)
	b = append(b, ',')
	b = appendStringField(b, "lastName", u.LastName)
	b = append(b, ',')
	b = appendStringField(b, "userType", u.UserType)
	b = append(b, `,"twoFactorAuthenticationEnable":`...)
	b = strconv.AppendBool(b, u.TwoFactorAuthenticationEnable)
	return append(b, '}')
}
