// Command gen writes the sample workbooks from the rows below: go run ./samples/gen.
// The samples are chosen against the simulator's demo world so that a first run shows
// creates, an update, unchanged rows, the expired invitation and PBX resizes.
package main

import (
	"encoding/csv"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/xuri/excelize/v2"
)

var colleagueHeader = []string{"Email", "First Name", "Last Name", "Permissions", "YCM Manager", "Owner", "Remark", "State"}

var colleagues = [][]string{
	// The demo world's colleagues: unchanged, updated, pending, expired.
	{"ops.lead@demo.example", "Olivia", "Lead", "Dashboard; Customers; Orders; YCM", "yes", "", "", "present"},
	{"finance@demo.example", "Fiona", "Nance", "Dashboard; Billing; Orders", "no", "", "", "present"},
	{"new.hire@demo.example", "Noah", "Hire", "Dashboard", "no", "", "", "present"},
	{"stale.invite@demo.example", "Sam", "Stale", "Dashboard; Customers", "no", "", "", "present"},
	// A migration wave of new colleagues.
	{"amelia.ward@demo.example", "Amelia", "Ward", "Dashboard; Customers; Orders", "no", "", "Wave 1: sales", "present"},
	{"benjamin.cole@demo.example", "Benjamin", "Cole", "Dashboard; Customers; Orders", "no", "", "Wave 1: sales", "present"},
	{"chloe.hart@demo.example", "Chloe", "Hart", "Dashboard; Technical Support", "no", "", "Wave 1: support", "present"},
	{"daniel.reyes@demo.example", "Daniel", "Reyes", "Dashboard; Technical Support", "no", "", "Wave 1: support", "present"},
	{"emma.lindqvist@demo.example", "Emma", "Lindqvist", "Dashboard; YCM", "yes", "", "PBX administration", "present"},
	{"felix.novak@demo.example", "Felix", "Novak", "Dashboard; YCM", "yes", "", "PBX administration", "present"},
	{"grace.okafor@demo.example", "Grace", "Okafor", "Dashboard; Billing; Licenses", "no", "", "Finance", "present"},
	{"henry.moreau@demo.example", "Henry", "Moreau", "Dashboard; Deal Registration; Customers", "no", "", "Channel", "present"},
	{"isla.fraser@demo.example", "Isla", "Fraser", "Dashboard; Marketing Resources", "no", "", "Marketing", "present"},
	{"jack.tanaka@demo.example", "Jack", "Tanaka", "Dashboard; Customers; Orders; Licenses", "no", "", "Wave 1: sales", "present"},
	{"kira.petrova@demo.example", "Kira", "Petrova", "Dashboard; Technical Support; YCM", "yes", "", "Wave 1: support", "present"},
	{"liam.oconnor@demo.example", "Liam", "O'Connor", "Dashboard; Orders", "no", "", "", "present"},
	{"maya.singh@demo.example", "Maya", "Singh", "Dashboard; Customers", "no", "reseller-north@demo.example", "North reseller desk", "present"},
	{"noah.fischer@demo.example", "Noah", "Fischer", "Dashboard; Customers", "no", "reseller-north@demo.example", "North reseller desk", "present"},
	{"olga.ivanova@demo.example", "Olga", "Ivanova", "Dashboard; Technical Support", "no", "2002", "South reseller support", "present"},
	{"pablo.garcia@demo.example", "Pablo", "Garcia", "Dashboard; Technical Support", "no", "2002", "South reseller support", "present"},
	{"quinn.baker@demo.example", "Quinn", "Baker", "Dashboard; Billing", "no", "", "Finance", "present"},
	{"rosa.lima@demo.example", "Rosa", "Lima", "Dashboard; Customers; Deal Registration", "no", "", "Channel", "present"},
	{"sven.berg@demo.example", "Sven", "Berg", "Dashboard; YCM; Technical Support", "yes", "", "Migration lead", "present"},
	{"tara.nguyen@demo.example", "Tara", "Nguyen", "Dashboard; Marketing Resources; Customers", "no", "", "Marketing", "present"},
	{"umar.haddad@demo.example", "Umar", "Haddad", "Dashboard; Orders; Licenses", "no", "", "Wave 1: sales", "present"},
}

var instanceHeader = []string{"PBX", "Extensions", "Concurrent Calls"}

var instances = [][]any{
	{"Acme HQ", 60, 10},        // grows: 42 extensions in use, room for the wave
	{"PCE-GLBX-0002", 20, 5},   // by SN, unchanged
	{"Initech Cloud", 100, 25}, // more concurrent calls
}

func main() {
	dir := "samples"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := writeXLSX(filepath.Join(dir, "onboarding.xlsx")); err != nil {
		log.Fatal(err)
	}
	if err := writeCSV(filepath.Join(dir, "colleagues.csv")); err != nil {
		log.Fatal(err)
	}
}

func writeXLSX(path string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Colleagues"); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	put := func(sheet string, row int, vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return f.SetSheetRow(sheet, cell, &vals)
	}
	hdr := make([]any, len(colleagueHeader))
	for i, h := range colleagueHeader {
		hdr[i] = h
	}
	if err := put("Colleagues", 1, hdr); err != nil {
		return err
	}
	for i, r := range colleagues {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		if err := put("Colleagues", i+2, vals); err != nil {
			return err
		}
	}
	if _, err := f.NewSheet("Instances"); err != nil {
		return err
	}
	if err := put("Instances", 1, []any{instanceHeader[0], instanceHeader[1], instanceHeader[2]}); err != nil {
		return err
	}
	for i, r := range instances {
		if err := put("Instances", i+2, r); err != nil {
			return err
		}
	}
	for _, s := range []string{"Colleagues", "Instances"} {
		_ = f.SetRowStyle(s, 1, 1, bold)
		_ = f.SetColWidth(s, "A", "A", 30)
		_ = f.SetColWidth(s, "B", "H", 18)
		_ = f.SetPanes(s, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	_ = f.SetColWidth("Colleagues", "D", "D", 44)
	return f.SaveAs(path)
}

// The CSV is a second wave, in the shape a partner admin exports from elsewhere.
func writeCSV(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	rows := [][]string{
		{"Email", "First Name", "Last Name", "Permissions", "YCM Manager"},
		{"victor.almeida@demo.example", "Victor", "Almeida", "Dashboard; Customers", "no"},
		{"wendy.zhou@demo.example", "Wendy", "Zhou", "Dashboard; Technical Support", "no"},
		{"xavier.dupont@demo.example", "Xavier", "Dupont", "Dashboard; YCM", "yes"},
		{"yara.haddad@demo.example", "Yara", "Haddad", "Dashboard; Billing", "no"},
		{"zoe.kowalski@demo.example", "Zoe", "Kowalski", "Dashboard; Orders", "no"},
	}
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}
