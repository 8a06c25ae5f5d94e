#!/bin/sh
# Remakes the LibreOffice fixtures: run from the repository root with LibreOffice
# installed (apt-get install libreoffice-calc-nogui). Tests do not need it.
set -e
out=importer/testdata
tmp=$(mktemp -d)
go run ./$out/gen "$tmp"
lo() { soffice --headless --convert-to "$1" --outdir "$tmp/lo" "$tmp/team-src.xlsx" >/dev/null; }
lo 'xlsx:Calc MS Excel 2007 XML'; cp "$tmp/lo/team-src.xlsx" $out/lo-team.xlsx
lo xls; cp "$tmp/lo/team-src.xls" $out/lo-team.xls
lo ods; cp "$tmp/lo/team-src.ods" $out/lo-team.ods
# CSV of the first sheet: comma, UTF-8; semicolon, Windows-1252; tab, UTF-16 ("Unicode text").
lo 'csv:Text - txt - csv (StarCalc):44,34,76,1'; cp "$tmp/lo/team-src.csv" $out/lo-colleagues-utf8.csv
lo 'csv:Text - txt - csv (StarCalc):59,34,1,1'; cp "$tmp/lo/team-src.csv" $out/lo-colleagues-1252.csv
lo 'csv:Text - txt - csv (StarCalc):9,34,65535,1'; cp "$tmp/lo/team-src.csv" $out/lo-colleagues-utf16.txt
rm -rf "$tmp"
