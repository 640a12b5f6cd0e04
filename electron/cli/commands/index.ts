/**
 * Every CLI command. Each lives in its own file beside this one; add a line here to register it.
 */
import type { Command } from '../command.js';
import { importCommand } from './import.js';
import { seriesListCommand } from './series-list.js';
import { exportNiftiCommand } from './export-nifti.js';
import { exportRtstructCommand } from './export-rtstruct.js';
import { sendCommand } from './send.js';
import { runCommand } from './run.js';
import { reviewApproveCommand, reviewRejectCommand, reviewResetCommand } from './review.js';
import { reviewRerunCommand } from './review-rerun.js';
import { evalCommand } from './eval.js';
import { evalCohortCommand } from './eval-cohort.js';
import { segmentCommand } from './segment.js';
import { exportLabelsCommand } from './export-labels.js';
import { localizeCommand } from './localize.js';
import { modelsCheckCommand } from './models-check.js';
import { templateAddCommand } from './template-add.js';
import { templateDeriveCommand } from './template-derive.js';
import { templateListCommand } from './template-list.js';
import { listenCommand } from './listen.js';
import { nodeStatusCommand } from './node-status.js';
import { pullCommand } from './pull.js';
import { exportDatasetCommand } from './export-dataset.js';
import { exportSegCommand } from './export-seg.js';
import { clusterExportCommand, clusterImportCommand, clusterStatusCommand, clusterSubmitCommand, clusterWorkCommand } from './cluster.js';
import { auditExportCommand, auditVerifyCommand } from './audit.js';
import { dbBackupCommand, dbCheckCommand, dbRestoreCommand } from './db.js';
import { templateKeepCommand, templateOutliersCommand } from './template-outliers.js';
import { exportDicomCommand } from './export-dicom.js';

export const COMMANDS: Command[] = [importCommand, seriesListCommand, exportNiftiCommand, exportRtstructCommand, sendCommand, runCommand, reviewApproveCommand, reviewRejectCommand, reviewResetCommand, reviewRerunCommand, evalCommand, evalCohortCommand, segmentCommand, exportLabelsCommand, templateAddCommand, templateDeriveCommand, templateListCommand, localizeCommand, modelsCheckCommand];
COMMANDS.push(listenCommand, nodeStatusCommand, pullCommand);
COMMANDS.push(clusterExportCommand, clusterWorkCommand, clusterImportCommand, clusterSubmitCommand, clusterStatusCommand);
COMMANDS.push(exportDatasetCommand, exportSegCommand);
COMMANDS.push(auditVerifyCommand, auditExportCommand);
COMMANDS.push(dbCheckCommand, dbRestoreCommand, dbBackupCommand);
COMMANDS.push(templateOutliersCommand, templateKeepCommand);
COMMANDS.push(exportDicomCommand);
