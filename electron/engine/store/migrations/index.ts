/**
 * Every schema migration, in order. The position in this list is the schema version: never reorder,
 * never edit one that has shipped; add a new file and a new line. Each has a test in
 * test/unit/store/ that migrates to N-1, inserts data, migrates to N and checks it.
 */
import type { Migration } from './types.js';
import { m001Archive } from './001_archive.js';
import { m002Templates } from './002_templates.js';
import { m003SupportCache } from './003_support_cache.js';
import { m004Network } from './004_network.js';
import { m005Jobs } from './005_jobs.js';
import { m006Node } from './006_node.js';
import { m007Cluster } from './007_cluster.js';
import { m008MaskRevisions } from './008_mask_revisions.js';
import { m009AuditChain } from './009_audit_chain.js';
import { m010TemplateOutliers } from './010_template_outliers.js';
import { m011Deid } from './011_deid.js';

export const MIGRATIONS: readonly Migration[] = [m001Archive, m002Templates, m003SupportCache, m004Network, m005Jobs, m006Node, m007Cluster, m008MaskRevisions, m009AuditChain, m010TemplateOutliers, m011Deid];

for (const [i, m] of MIGRATIONS.entries()) {
  if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
}
