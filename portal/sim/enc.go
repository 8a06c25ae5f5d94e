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

// appendColleague appends the wire object of wire.md, without the simulator's own fields.
func appendColleague(b []byte, c *Colleague) []byte {
	b = append(b, '{')
	b = appendIntField(b, "colleaguesId", c.ColleaguesID)
	b = append(b, ',')
	b = appendStringField(b, "yeastarId", c.YeastarID)
	b = append(b, ',')
	b = appendStringField(b, "firstName", c.FirstName)
	b = append(b, ',')
	b = appendStringField(b, "lastName", c.LastName)
	b = append(b, ',')
	b = appendStringField(b, "userStatus", c.UserStatus)
	b = append(b, ',')
	b = appendIntField(b, "twoFactorAuthentication", int64(c.TwoFactorAuthentication))
	b = append(b, `,"resourceIds":[`...)
	for i, id := range c.ResourceIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, "],"...)
	b = appendIntField(b, "isRmUser", int64(c.IsRmUser))
	b = append(b, ',')
	b = appendStringField(b, "remark", c.Remark)
	b = append(b, ',')
	b = appendIntField(b, "ownerId", c.OwnerID)
	b = append(b, ',')
	b = appendIntField(b, "createTime", c.CreateTime)
	return append(b, '}')
}

// appendPBX appends the wire object of wire.md, without the simulator's own fields.
func appendPBX(b []byte, p *PBX) []byte {
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
	b = append(b, ',')
	b = appendIntField(b, "extensionUsed", int64(p.ExtensionUsed))
	return append(b, '}')
}

func appendPermission(b []byte, p *Permission) []byte {
	b = append(b, '{')
	b = appendIntField(b, "resourceId", p.ResourceID)
	b = append(b, ',')
	b = appendStringField(b, "resourceName", p.ResourceName)
	return append(b, '}')
}

func appendPartner(b []byte, p *Partner) []byte {
	b = append(b, '{')
	b = appendIntField(b, "partnerId", p.PartnerID)
	b = append(b, ',')
	b = appendStringField(b, "email", p.Email)
	b = append(b, ',')
	b = appendStringField(b, "company", p.Company)
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
