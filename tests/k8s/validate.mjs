#!/usr/bin/env node
// node tests/k8s/validate.mjs <folder with kustomization.yaml>
// Validates a kustomization without a cluster:
//   * every resource of kustomization.yaml exists, and every *.yaml beside it is a resource;
//   * every document of every resource against the Kubernetes API schema of its apiVersion and kind
//     (kubernetes-models: ajv validators generated from the Kubernetes OpenAPI spec; an unknown
//     apiVersion/kind is an error);
//   * every image of a container is named in the kustomization's `images` (so the tag is set there),
//     and every `images` entry is used.
// Prints one line per problem (file: kind/name: path: message) and exits 1 when there is one,
// 2 on bad usage, 0 when all is valid (with a count of the documents).
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

function usage(msg) {
  process.stderr.write(`validate.mjs: ${msg}\nusage: node validate.mjs <folder with kustomization.yaml>\n`);
  process.exit(2);
}

if (process.argv.length !== 3) usage("one argument expected");
const dir = path.resolve(process.argv[2]);
const kfile = path.join(dir, "kustomization.yaml");
if (!fs.existsSync(kfile)) usage(`no kustomization.yaml in ${dir}`);

const problems = [];
const problem = (file, what) => problems.push(`${file}: ${what}`);

function parse(file) {
  const text = fs.readFileSync(path.join(dir, file), "utf8");
  const docs = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      for (const e of doc.errors) problem(file, `YAML: ${e.message.split("\n")[0]}`);
      continue;
    }
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

// apiVersion + kind -> the model's module: kubernetes-models/<group>/<version>/<Kind>, core is v1.
async function model(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Z][A-Za-z]+$/.test(kind)) return null;
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  if (!/^v\d+((alpha|beta)\d+)?$/.test(version) || (group !== null && !/^[a-z0-9.-]+$/.test(group))) return null;
  const spec = group === null ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
  try {
    const mod = await import(spec);
    return mod[kind] || null;
  } catch {
    return null;
  }
}

function containersOf(doc) {
  const spec = doc.kind === "Pod" ? doc.spec : doc.spec && doc.spec.template && doc.spec.template.spec;
  if (!spec) return [];
  return [...(spec.initContainers || []), ...(spec.containers || [])];
}

const [kustomization] = parse("kustomization.yaml");
if (!kustomization || kustomization.kind !== "Kustomization") problem("kustomization.yaml", "not a Kustomization");
const resources = (kustomization && kustomization.resources) || [];
const images = new Map(((kustomization && kustomization.images) || []).map((i) => [i.name, i]));
for (const [name, entry] of images) {
  if (!entry.newTag && !entry.digest) problem("kustomization.yaml", `images: ${name}: no newTag or digest`);
}
const listed = new Set(resources);
for (const f of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")) {
  if (!listed.has(f)) problem("kustomization.yaml", `${f} is not listed in resources`);
}

const used = new Set();
let count = 0;
for (const file of resources) {
  if (!fs.existsSync(path.join(dir, file))) {
    problem("kustomization.yaml", `resource ${file} does not exist`);
    continue;
  }
  for (const doc of parse(file)) {
    count++;
    const where = `${file}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    const Model = await model(doc.apiVersion, doc.kind);
    if (!Model) {
      problems.push(`${where}: unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (e) {
      const details = (e.errors || []).map((x) => `${x.instancePath || "/"}: ${x.message}`);
      problems.push(`${where}: ${details.length ? details.join("; ") : e.message}`);
    }
    for (const c of containersOf(doc)) {
      const name = String(c.image || "").replace(/[:@].*$/, "");
      if (!images.has(name)) problems.push(`${where}: container ${c.name}: image ${c.image} not in the kustomization's images`);
      used.add(name);
    }
  }
}
for (const name of images.keys()) {
  if (!used.has(name)) problem("kustomization.yaml", `images: ${name} is used by no container`);
}

if (problems.length) {
  for (const p of problems) process.stdout.write(p + "\n");
  process.stdout.write(`${problems.length} problem(s)\n`);
  process.exit(1);
}
process.stdout.write(`valid: ${count} documents in ${resources.length} files\n`);
