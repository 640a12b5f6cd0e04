/**
 * The attribute actions of DICOM PS3.15 Annex E, Table E.1-1, Basic Application Level
 * Confidentiality Profile, for the attributes CT images, RT Structure Sets and Segmentations carry
 * (keyword -> action). Action codes as in E.1.1: D replace with a dummy value, Z replace with a
 * zero-length value, X remove, K keep. U (replace UIDs consistently) is applied to every UI value
 * by rule in deidentify.ts, as are PN (emptied), DA/DT/TM (emptied, or shifted under the Retain
 * Longitudinal Temporal Information with Modified Dates Option, E.3.6), private and unknown tags
 * (removed, E.3.10 not claimed). Sequences not listed here are kept and cleaned item by item.
 */
export type Action = 'D' | 'Z' | 'X' | 'K';

const X = (keys: string[]): [string, Action][] => keys.map((k) => [k, 'X']);
const Z = (keys: string[]): [string, Action][] => keys.map((k) => [k, 'Z']);

export const ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>([
  // Patient (PS3.3 C.7.1.1): identity replaced, characteristics removed (no Retain Patient Characteristics).
  ['PatientName', 'D'],
  ['PatientID', 'D'],
  ...Z(['PatientBirthDate', 'PatientSex', 'AccessionNumber', 'StudyID', 'ReferringPhysicianName', 'ROIInterpreter', 'ContentCreatorName',
    // X/Z in the table; zero-length where an IOD makes them Type 2 (OperatorsName in the RT Series module).
    'OperatorsName']),
  ...X([
    'IssuerOfPatientID', 'IssuerOfPatientIDQualifiersSequence', 'PatientBirthTime', 'PatientAge', 'PatientSize', 'PatientWeight',
    'PatientAddress', 'OtherPatientIDs', 'OtherPatientNames', 'OtherPatientIDsSequence', 'PatientBirthName',
    'PatientMotherBirthName', 'MilitaryRank', 'BranchOfService', 'MedicalRecordLocator', 'MedicalAlerts', 'Allergies',
    'CountryOfResidence', 'RegionOfResidence', 'PatientTelephoneNumbers', 'EthnicGroup', 'Occupation', 'SmokingStatus',
    'AdditionalPatientHistory', 'PregnancyStatus', 'LastMenstrualDate', 'PatientReligiousPreference', 'PatientComments',
    'PatientState', 'PatientInsurancePlanCodeSequence', 'ResponsiblePerson', 'ResponsibleOrganization', 'PatientSexNeutered',
    'IdentifyingComments', 'PatientSpeciesDescription', 'PatientBreedDescription', 'ReferencedPatientSequence',
    'ReferencedPatientPhotoSequence', 'PatientInstitutionResidence', 'CurrentPatientLocation',
  ]),
  // Study, visit, request and procedure step (C.7.2, C.4).
  ...X([
    'StudyDescription', 'ReferringPhysicianAddress', 'ReferringPhysicianTelephoneNumbers', 'ReferringPhysicianIdentificationSequence',
    'ConsultingPhysicianName', 'ConsultingPhysicianIdentificationSequence', 'PhysiciansOfRecord', 'PhysiciansOfRecordIdentificationSequence',
    'NameOfPhysiciansReadingStudy', 'PhysiciansReadingStudyIdentificationSequence', 'RequestingPhysician', 'RequestingService',
    'AdmittingDiagnosesDescription', 'AdmittingDiagnosesCodeSequence', 'AdmissionID', 'IssuerOfAdmissionIDSequence', 'ReasonForStudy',
    'RequestedProcedureDescription', 'RequestedProcedureID', 'RequestedProcedureComments', 'StudyComments', 'ReferencedStudySequence',
    'ReferencedPerformedProcedureStepSequence', 'RequestAttributesSequence', 'PerformedProcedureStepID',
    'PerformedProcedureStepDescription', 'PerformedProcedureStepStartDate', 'PerformedProcedureStepStartTime',
    'PerformedProcedureStepEndDate', 'PerformedProcedureStepEndTime', 'CommentsOnThePerformedProcedureStep', 'ProcedureCodeSequence',
    'ScheduledProcedureStepID', 'ScheduledProcedureStepDescription', 'ScheduledProcedureStepLocation', 'ScheduledStationName',
    'ScheduledStationAETitle', 'ScheduledPerformingPhysicianName', 'ReasonForTheRequestedProcedure', 'ImagingServiceRequestComments',
    'OrderEnteredBy', 'OrderEntererLocation', 'OrderCallbackPhoneNumber', 'PlacerOrderNumberImagingServiceRequest',
    'FillerOrderNumberImagingServiceRequest', 'ServiceEpisodeID', 'ServiceEpisodeDescription', 'VisitComments', 'SpecialNeeds',
    'ReasonForVisit', 'ReasonForVisitCodeSequence',
  ]),
  // Series, equipment, acquisition (C.7.3, C.7.5, C.8.2).
  ...X([
    'SeriesDescription', 'InstitutionName', 'InstitutionAddress', 'InstitutionalDepartmentName', 'InstitutionalDepartmentTypeCodeSequence',
    'InstitutionCodeSequence', 'StationName', 'OperatorIdentificationSequence', 'PerformingPhysicianName',
    'PerformingPhysicianIdentificationSequence', 'DeviceSerialNumber', 'ProtocolName', 'PerformedStationName', 'PerformedLocation',
    'PerformedStationAETitle', 'PerformedStationNameCodeSequence', 'PerformedStationGeographicLocationCodeSequence', 'DetectorID',
    'GantryID', 'PlateID', 'CassetteID', 'GeneratorID', 'SourceSerialNumber', 'AcquisitionComments',
    'AcquisitionDeviceProcessingDescription', 'AcquisitionProtocolDescription', 'ContributionDescription', 'ContributingEquipmentSequence',
    'ModifyingDeviceID', 'ModifyingDeviceManufacturer', 'ModifiedImageDescription', 'AcquisitionContextSequence', 'ClinicalTrialSponsorName',
    'ClinicalTrialProtocolID', 'ClinicalTrialProtocolName', 'ClinicalTrialSiteID', 'ClinicalTrialSiteName', 'ClinicalTrialSubjectID',
    'ClinicalTrialSubjectReadingID', 'ClinicalTrialTimePointID', 'ClinicalTrialTimePointDescription', 'ClinicalTrialCoordinatingCenterName',
    'ClinicalTrialSeriesID', 'ClinicalTrialSeriesDescription', 'ClinicalTrialProtocolEthicsCommitteeName',
    'ClinicalTrialProtocolEthicsCommitteeApprovalNumber',
  ]),
  // Image and general content (C.7.6).
  ...X([
    'DerivationDescription', 'ImageComments', 'FrameComments', 'IconImageSequence', 'OverlayData', 'OverlayComments',
    'RequestedContrastAgent', 'ContentSequence', 'TextString', 'TextComments', 'DigitalSignaturesSequence', 'DataSetTrailingPadding',
    'OriginalAttributesSequence', 'ModifiedAttributesSequence', 'MACParametersSequence', 'PersonAddress', 'PersonTelephoneNumbers',
    'PersonIdentificationCodeSequence', 'VerifyingOrganization', 'VerifyingObserverName', 'VerifyingObserverSequence',
    'AuthorObserverSequence', 'ParticipantSequence', 'CustodialOrganizationSequence', 'InterpretationText', 'ResultsComments',
    'Impressions', 'DischargeDiagnosisDescription', 'AdmittingDate', 'AdmittingTime', 'DistributionName', 'DistributionAddress',
    'NamesOfIntendedRecipientsOfResults', 'HumanPerformerName', 'HumanPerformerOrganization', 'ActualHumanPerformersSequence',
    'ScheduledHumanPerformersSequence', 'ContrastBolusAgent', 'PerformedProcedureStepDiscontinuationReasonCodeSequence',
    'SegmentationDescription', 'SeriesCommentsRETIRED',
  ]),
  // RT Structure Set (C.8.8.5, C.8.8.8): the label a dummy, descriptions and free text removed.
  ['StructureSetLabel', 'D'],
  ...X(['StructureSetName', 'StructureSetDescription', 'ROIDescription', 'ROIGenerationDescription', 'ROIObservationLabel',
    'ROIObservationDescription', 'ReviewerName', 'RTPlanLabel', 'RTPlanName', 'RTPlanDescription', 'FractionGroupDescription',
    'RTDoseComment', 'BeamDescription', 'TreatmentMachineName', 'SegmentDescription']),
  // Reset by the profile itself (replaced after cleaning).
  ...X(['PatientIdentityRemoved', 'DeidentificationMethod', 'DeidentificationMethodCodeSequence', 'LongitudinalTemporalInformationModified']),
]);

/** UIDs defined by the standard (SOP classes, transfer syntaxes, coding schemes): never remapped. */
export const STANDARD_UID_ROOT = '1.2.840.10008.';

/** De-identification method codes (PS3.16 CID 7050). */
export const METHOD_CODES = {
  basic: { CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' },
  modifiedDates: { CodeValue: '113107', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Retain Longitudinal With Modified Dates Option' },
} as const;
