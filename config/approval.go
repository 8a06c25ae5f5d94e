package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

const approvalHelp = "give never, always, or a list of deletes, reinvites, shrinks and more_than: N"

// parseApproval reads require_approval: never, always, one trigger, or a list of
// triggers (deletes, reinvites, shrinks, more_than: N).
func parseApproval(v *yaml.Node) (reconcile.Approval, error) {
	var a reconcile.Approval
	if v.Kind == yaml.ScalarNode {
		switch v.Value {
		case "never":
			return a, nil
		case "always":
			a.Always = true
			return a, nil
		}
		return a, approvalItem(&a, v)
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return a, fmt.Errorf("line %d: require_approval: %s", v.Line, approvalHelp)
	}
	for _, item := range v.Content {
		if err := approvalItem(&a, item); err != nil {
			return a, err
		}
	}
	return a, nil
}

func approvalItem(a *reconcile.Approval, v *yaml.Node) error {
	if v.Kind == yaml.MappingNode && len(v.Content) == 2 && v.Content[0].Value == "more_than" {
		n := v.Content[1]
		var x int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&x) != nil || x < 0 {
			return fmt.Errorf("line %d: require_approval: more_than: give a whole number of changed objects, 0 or more", n.Line)
		}
		a.MoreThan = &x
		return nil
	}
	if v.Kind == yaml.ScalarNode {
		switch v.Value {
		case "deletes":
			a.Deletes = true
			return nil
		case "reinvites":
			a.Reinvites = true
			return nil
		case "shrinks":
			a.Shrinks = true
			return nil
		}
		return fmt.Errorf("line %d: require_approval: %q: %s", v.Line, v.Value, approvalHelp)
	}
	return fmt.Errorf("line %d: require_approval: %s", v.Line, approvalHelp)
}
