#!/usr/bin/env python3
"""Regenerates the crate's Graph API contract from Meta's machine-readable API description.

    python3 scripts/contract.py [SPEC_DIR]      # default: ../shared/meta-api-spec

Writes src/testing/contract.json (read by the emulator and the contract test) and
CONTRACT.md (the same table for people). Moving to Meta's next spec is: replace the spec
files, run this, run the tests.

Only the nodes and edges this crate calls are kept (USED below; the asset kinds' nodes and
edges are read from the crate's own table, each kind's `asset_kind!` in src/kinds/). What graph-api.md documents
outside the spec (edge-only fields, debug_token, /oauth/*, batch, the transport parameters) is
added from EXTRAS, each with its source (`/me` too: its node type is an alias there). Meta's licence travels with the copied data.
"""

import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "meta-api-spec")

def asset_kinds():
    """The crate's asset kinds, from each `asset_kind!` in src/kinds/*.rs: (node type, owned
    edge, system-user edge or None, partner edges), in file-name order."""
    kinds = []
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "kinds", "*.rs"))):
        with open(path) as f:
            text = f.read()
        block = re.search(r"^crate::kinds::asset_kind! \{(.*?)\n\}", text, re.S | re.M)
        if not block:
            continue
        body = block.group(1)
        node = re.search(r'\bnode: "(\w+)"', body).group(1)
        owned = re.search(r'\bowned_edge: "(\w+)"', body).group(1)
        su = re.search(r'\bsystem_user_edge: (?:Some\("(\w+)"\)|None)', body).group(1)
        edges = re.search(r'\bpartner_edges: &\[([^\]]*)\]', body)
        partners = re.findall(r'"(\w+)"', edges.group(1)) if edges else []
        kinds.append((node, owned, su, partners))
    if not kinds:
        sys.exit("no asset_kind! found in src/kinds/")
    return kinds


KINDS = asset_kinds()

# Contract node type -> (spec files, in order of precedence; [(method, edge)]), edge "" = node.
USED = {
    "User": (["User.json"], [
        ("GET", ""), ("GET", "businesses"), ("POST", "businesses"), ("GET", "accounts"),
    ]),
    "Business": (["Business.json"], [
        ("GET", ""), ("GET", "system_users"), ("POST", "system_users"),
        ("POST", "system_user_access_tokens"), ("POST", "access_token"),
        ("GET", "business_users"),
        ("POST", "owned_ad_accounts"), ("POST", "owned_pages"),
        ("GET", "owned_apps"), ("POST", "owned_apps"),
        ("GET", "client_apps"),
        ("POST", "managed_businesses"), ("DELETE", "managed_businesses"),
        ("GET", "agencies"), ("GET", "clients"),
    ] + [("GET", owned) for _, owned, _, _ in KINDS]),
    # A system user is a User for the token edges (graph-api.md 4.1, 4.2, 4.5).
    "SystemUser": (["SystemUser.json", "User.json"], [
        ("GET", ""), ("POST", "applications"), ("POST", "access_tokens"),
        ("DELETE", "access_tokens"), ("GET", "assigned_applications"),
    ] + [("GET", su) for _, _, su, _ in KINDS if su]),
    "Application": (["Application.json"], [("GET", ""), ("GET", "permissions")]),
}
# Each asset kind: its node, its assigned_users calls (DELETE where the spec has it) and the
# edges listing the partners with access to it.
for node, _, _, partners in KINDS:
    USED[node] = ([f"{node}.json"], [
        ("GET", ""), ("GET", "assigned_users"), ("POST", "assigned_users"),
        ("DELETE", "assigned_users", "optional"),
    ] + [("GET", edge) for edge in partners])

# Node types whose fields a `fields=` list may name, for edges returning them.
FIELD_SOURCES = {
    "User": "User.json", "Business": "Business.json", "SystemUser": "SystemUser.json",
    "Application": "Application.json", "AdAccount": "AdAccount.json", "Page": "Page.json",
    "ProductCatalog": "ProductCatalog.json", "AdsPixel": "AdsPixel.json",
    "InstagramBusinessAsset": "InstagramBusinessAsset.json",
    "WhatsAppBusinessAccount": "WhatsAppBusinessAccount.json",
    "AssignedUser": "AssignedUser.json", "BusinessUser": "BusinessUser.json",
    "BusinessAssetGroup": "BusinessAssetGroup.json",
}

# What graph-api.md documents outside the spec.
EXTRAS = {
    "edge_fields": [
        {"node": "Business", "method": "GET", "edge": "system_users", "fields": ["role"],
         "source": "graph-api.md 2.3: role is an edge field of /{business}/system_users"},
        {"node": "*", "method": "GET", "edge": "assigned_users",
         "fields": ["tasks", "permitted_tasks"],
         "source": "graph-api.md 3 and 9: tasks/permitted_tasks are edge fields of assigned_users"},
        {"node": "SystemUser", "method": "GET", "edge": "assigned_*",
         "fields": ["tasks", "permitted_tasks"],
         "source": "graph-api.md 3: a system user's assigned_* edges carry its tasks"},
        {"node": "User", "method": "GET", "edge": "accounts",
         "fields": ["tasks", "access_token"],
         "source": "graph-api.md 8 (On Behalf Of): /me/accounts returns each Page's tasks and Page token"},
    ],
    # Parameters Meta's docs use that the spec does not list; merged into the call.
    "extra_params": [
        {"node": "AdAccount", "method": "POST", "edge": "assigned_users",
         "params": {"business": {"type": "string", "required": False}},
         "source": "graph-api.md 8: Meta's system-user permissions guide adds `business` for ad accounts"},
    ],
    "specials": {
        "GET debug_token": {
            "params": {"input_token": {"type": "string", "required": True}},
            "source": "graph-api.md 4.6"},
        "GET oauth/access_token": {
            "params": {
                "grant_type": {"type": "string", "required": True, "enum": ["fb_exchange_token"]},
                "client_id": {"type": "string", "required": True},
                "client_secret": {"type": "string", "required": True},
                "fb_exchange_token": {"type": "string", "required": True},
                "set_token_expires_in_60_days": {"type": "bool", "required": False}},
            "source": "graph-api.md 4.3"},
        "GET oauth/revoke": {
            "params": {
                "client_id": {"type": "string", "required": True},
                "client_secret": {"type": "string", "required": True},
                "revoke_token": {"type": "string", "required": True}},
            "source": "graph-api.md 4.4 (access_token travels as Bearer, graph-api.md 9 [INFER])"},
        "POST batch": {
            "params": {
                "batch": {"type": "string", "required": True},
                "include_headers": {"type": "bool", "required": False}},
            "source": "graph-api.md 7 and 9: at most 50 items, no batch inside a batch"},
    },
    # Path ids that name a node of the given type without its number.
    "aliases": {
        "me": {"node": "User",
               "source": "graph-api.md 6.3 (GET /me with a system user's token gives its id, "
                         "DOC G1), 6.5 (GET /me/accounts, DOC G1), 2 (/me/businesses) and 9 "
                         "(code 2500 belongs to /me): the token's own user, whose calls are "
                         "the User ones"},
    },
    # Parameters the transport adds to any call.
    "transport_params": ["appsecret_proof", "appsecret_time", "fields", "limit", "after",
                         "before", "summary", "include_headers"],
}


def load(name):
    with open(os.path.join(SPEC, name)) as f:
        return json.load(f)


def main():
    enums = {e["name"]: e["values"] for e in load("enum_types.json")}

    def param(p):
        t = p.get("type", "string")
        out = {"type": t, "required": bool(p.get("required", False))}
        inner = t[5:-1] if t.startswith("list<") and t.endswith(">") else t
        if inner in enums:
            out["enum"] = enums[inner]
        return out

    fields = {}
    for node, fname in FIELD_SOURCES.items():
        fields[node] = sorted(f["name"] for f in load(fname).get("fields", []))

    nodes = {}
    missing = []
    for node, (files, wanted) in USED.items():
        specs = [(fname, load(fname)) for fname in files]
        edges = {}
        for method, edge, *optional in wanted:
            found = None
            for fname, spec in specs:
                for api in spec.get("apis", []):
                    api_edge = api.get("endpoint", "")
                    if api["method"] == method and api_edge == edge:
                        found = (fname, api)
                        break
                if found:
                    break
            key = f"{method} {edge}".strip()
            if not found:
                if not optional:
                    missing.append(f"{node}: {key}")
                continue
            fname, api = found
            params = {p["name"]: param(p) for p in api.get("params", [])}
            for extra in EXTRAS["extra_params"]:
                if (extra["node"], extra["method"], extra["edge"]) == (node, method, edge):
                    for name, p in extra["params"].items():
                        params[name] = dict(p, source=extra["source"])
            edges[key] = {
                "return": api.get("return"),
                "params": params,
                "spec": fname,
            }
        nodes[node] = {"fields": fields.get(node, []), "edges": edges}
    if missing:
        sys.exit("not in the spec: " + ", ".join(missing))

    with open(os.path.join(SPEC, "LICENSE")) as f:
        licence = f.read()
    readme = os.path.join(SPEC, "README.md")
    source = ""
    if os.path.exists(readme):
        with open(readme) as f:
            source = next((l.strip() for l in f if "commit" in l), "")
    contract = {
        "_about": "Generated by scripts/contract.py from Meta's API description; do not edit.",
        "_source": source,
        "_meta_licence": licence,
        "fields": fields,
        "nodes": nodes,
        "extras": EXTRAS,
    }
    out = os.path.join(ROOT, "src", "testing", "contract.json")
    with open(out, "w") as f:
        json.dump(contract, f, indent=1, sort_keys=True)
        f.write("\n")

    lines = [
        "# The Graph API contract",
        "",
        "Generated by `python3 scripts/contract.py` from Meta's machine-readable API description",
        "(`../shared/meta-api-spec/`, " + (source or "see its README") + "); do not edit by hand.",
        "The emulator enforces it and `tests/it/contract.rs` checks every request the crate builds",
        "against it. Data derived from Meta's files is under Meta's licence, reproduced at the end.",
        "",
    ]
    for node, spec in nodes.items():
        lines.append(f"## {node}")
        lines.append("")
        lines.append("| call | returns | parameters (`*` required) |")
        lines.append("|---|---|---|")
        for key, e in spec["edges"].items():
            ps = []
            for name, p in sorted(e["params"].items()):
                s = f"`{name}`{'*' if p['required'] else ''} {p['type']}"
                if "enum" in p and len(p["enum"]) <= 12:
                    s += " {" + ", ".join(p["enum"]) + "}"
                elif "enum" in p:
                    s += f" ({len(p['enum'])} values)"
                ps.append(s)
            method, _, edge = key.partition(" ")
            lines.append(f"| {method} /{{{node}}}{'/' + edge if edge else ''} | {e['return']} | "
                         f"{'; '.join(ps) or '—'} |")
        lines.append("")
        if spec["fields"]:
            lines.append(f"Fields of {node}: " + ", ".join(f"`{f}`" for f in spec["fields"]))
            lines.append("")
    lines.append("## Other field lists")
    lines.append("")
    for node in ("AssignedUser", "BusinessUser", "BusinessAssetGroup"):
        lines.append(f"Fields of {node}: " + ", ".join(f"`{f}`" for f in fields[node]))
        lines.append("")
    lines.append("## Documented outside the spec (graph-api.md)")
    lines.append("")
    for ef in EXTRAS["edge_fields"]:
        lines.append(f"- Edge fields {', '.join(ef['fields'])} on {ef['method']} "
                     f"/{{{ef['node']}}}/{ef['edge']}: {ef['source']}")
    for extra in EXTRAS["extra_params"]:
        lines.append(f"- Parameter {', '.join(extra['params'])} on {extra['method']} "
                     f"/{{{extra['node']}}}/{extra['edge']}: {extra['source']}")
    for key, sp in EXTRAS["specials"].items():
        ps = ", ".join(f"`{n}`{'*' if p['required'] else ''}" for n, p in sp["params"].items())
        lines.append(f"- `{key}`: {ps}; {sp['source']}")
    for alias, a in EXTRAS["aliases"].items():
        lines.append(f"- `/{alias}` is a {a['node']}: {a['source']}")
    lines.append("- Transport parameters allowed on any call: "
                 + ", ".join(f"`{p}`" for p in EXTRAS["transport_params"]))
    lines.append("")
    lines.append("## Meta's licence for the data above")
    lines.append("")
    lines.append("```")
    lines.append(licence.rstrip())
    lines.append("```")
    with open(os.path.join(ROOT, "CONTRACT.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote src/testing/contract.json and CONTRACT.md: {len(nodes)} node types, "
          f"{sum(len(n['edges']) for n in nodes.values())} calls")


if __name__ == "__main__":
    main()
