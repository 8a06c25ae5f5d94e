package reconcile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/internal/place"
)

const planFileVersion = 1

type planFile struct {
	Tool        string   `json:"tool"`
	Version     int      `json:"version"`
	Fingerprint string   `json:"fingerprint"`
	Plan        Plan     `json:"plan"`
	Inputs      []string `json:"inputs,omitempty"`
}

func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}

func (o Object) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

func (o *Object) UnmarshalText(b []byte) error {
	switch string(b) {
	case "colleague":
		*o = ColleagueObject
	case "PBX":
		*o = InstanceObject
	default:
		return fmt.Errorf("unknown object %q", b)
	}
	return nil
}

// WritePlanFile saves a plan for a later `apply --plan`, atomically (place.Write).
func WritePlanFile(path string, p Plan, inputs []string) error {
	_, err := place.Write(path, place.Replace, func(w io.Writer) error { return writePlan(w, p, inputs) })
	return err
}

// writePlan streams the plan file one action at a time: a plan of 100,000 actions is
// never a whole JSON document in memory (the format is planFile's, as ReadPlanFile reads).
func writePlan(w io.Writer, p Plan, inputs []string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(struct {
		Tool        string   `json:"tool"`
		Version     int      `json:"version"`
		Fingerprint string   `json:"fingerprint"`
		Inputs      []string `json:"inputs,omitempty"`
	}{"ycm-onboard", planFileVersion, p.Fingerprint, inputs})
	if err != nil {
		return err
	}
	rest, err := json.Marshal(struct {
		Fingerprint string
		Tripped     []string
		Made        time.Time
	}{p.Fingerprint, p.Tripped, p.Made})
	if err != nil {
		return err
	}
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"plan":{"Actions":[`)
	for i, a := range p.Actions {
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		bw.Write(b)
	}
	if p.Actions == nil {
		bw.WriteString("]")
	} else {
		bw.WriteString("\n]")
	}
	bw.WriteByte(',')
	bw.Write(rest[1:])
	bw.WriteString("}\n")
	return bw.Flush()
}

// ReadPlanFile loads a saved plan.
func ReadPlanFile(path string) (Plan, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return Plan{}, nil, err
	}
	defer f.Close()
	var pf planFile
	dec := json.NewDecoder(io.LimitReader(f, 512<<20))
	if err := dec.Decode(&pf); err != nil {
		return Plan{}, nil, fmt.Errorf("%s is not a plan written by `ycm-onboard plan --out`: %w", path, err)
	}
	if pf.Tool != "ycm-onboard" || pf.Version != planFileVersion {
		return Plan{}, nil, fmt.Errorf("%s is not a version %d plan written by `ycm-onboard plan --out`", path, planFileVersion)
	}
	return pf.Plan, pf.Inputs, nil
}

// Stale lists the actions of a saved plan whose objects changed on the portal since
// the plan was made. A stale plan must not be applied.
func Stale(p Plan, a Actual) []string {
	colleagues := make(map[string]uint64, len(a.Colleagues))
	for _, c := range a.Colleagues {
		colleagues[strings.ToLower(c.Email)] = colleagueState(c)
	}
	pbxs := make(map[string]uint64, len(a.PBXs))
	for _, x := range a.PBXs {
		pbxs[strings.ToLower(x.SN)] = pbxState(x)
	}
	var out []string
	for _, act := range p.Actions {
		if !act.Runs() {
			continue
		}
		var cur uint64
		var ok bool
		if act.Object == ColleagueObject {
			cur, ok = colleagues[act.Key]
		} else {
			cur, ok = pbxs[strings.ToLower(act.Key)]
		}
		switch {
		case act.Kind == Create && ok:
			out = append(out, fmt.Sprintf("%s was created on the portal since the plan was made", act.Label))
		case act.Kind != Create && !ok:
			out = append(out, fmt.Sprintf("%s was removed from the portal since the plan was made", act.Label))
		case act.Kind != Create && cur != act.Was:
			out = append(out, fmt.Sprintf("%s changed on the portal since the plan was made", act.Label))
		}
	}
	return out
}
