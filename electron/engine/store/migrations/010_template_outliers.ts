import type { Migration } from './types.js';

/**
 * Outlier flags on template members (store/template-outliers.ts): a member whose volume, extent or
 * position is far from the rest of its structure's members (a mislabelled contour in a clinic's
 * archive) is left out of atlas fusion unless a person keeps it.
 */
export const m010TemplateOutliers: Migration = {
  version: 10,
  name: 'template-outliers',
  up(db) {
    db.exec(`
      ALTER TABLE template_members ADD COLUMN outlier_json TEXT;               -- reasons (JSON array), NULL when not an outlier
      ALTER TABLE template_members ADD COLUMN kept INTEGER NOT NULL DEFAULT 0; -- 1: a person keeps it despite the flag
    `);
  },
};
