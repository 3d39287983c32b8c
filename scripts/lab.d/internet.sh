# shellcheck shell=bash
# The offline internet's pieces, shared by scripts/lab (on 198.18.0.0/15) and tests/unit/recurse (on
# loopback, 127.53.0.0/24): its zones (scripts/lab.d/zones/internet/*.zone.in) rendered with the
# servers' addresses, which zones each server holds, and a BIND config from named.conf.in.
# Source it; it defines functions only.

internet_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# internet_render_zones DIR ROOT TLD AUTH SILENT: the four zone files into DIR.
internet_render_zones() {
	local dir=$1 zone
	mkdir -p "$dir"
	for zone in root com onprem.com xyz.com; do
		sed -e "s/@ROOT@/$2/g" -e "s/@TLD@/$3/g" -e "s/@AUTH@/$4/g" -e "s/@SILENT@/$5/g" \
			"$internet_dir/zones/internet/$zone.zone.in" >"$dir/$zone.zone"
	done
}

# internet_zone_clauses root|tld|auth ZONEDIR: the named.conf zone clauses of that server.
internet_zone_clauses() {
	case $1 in
	root) printf 'zone "." { type primary; file "%s/root.zone"; };\n' "$2" ;;
	tld) printf 'zone "com" { type primary; file "%s/com.zone"; };\n' "$2" ;;
	auth)
		printf 'zone "onprem.com" { type primary; file "%s/onprem.com.zone"; };\n' "$2"
		printf 'zone "xyz.com" { type primary; file "%s/xyz.com.zone"; };\n' "$2"
		;;
	*) return 1 ;;
	esac
}

# internet_probe_name root|tld|auth: a name that server answers with its SOA once it has loaded.
internet_probe_name() {
	case $1 in
	root) echo . ;;
	tld) echo com ;;
	auth) echo xyz.com ;;
	esac
}

# render_named_conf DIR ADDRESS < zone clauses: named.conf.in for a server in DIR listening on ADDRESS.
render_named_conf() {
	local zones
	zones=$(cat)
	ZONES="$zones" DIR="$1" ADDRESS="$2" awk '
		{ gsub(/@DIR@/, ENVIRON["DIR"]); gsub(/@ADDRESS@/, ENVIRON["ADDRESS"]) }
		/^@ZONES@$/ { print ENVIRON["ZONES"]; next }
		{ print }' "$internet_dir/named.conf.in"
}
