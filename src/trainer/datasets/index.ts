/**
 * Datasets of image + problem + answer rows for multimodal RL (EasyR1 / Geometry3K shape) from JSON,
 * JSON Lines or Parquet, with PNG / JPEG images on disk or embedded; bad rows are reported, skipped, counted.
 */
export {
  DEFAULT_FIELDS, DEFAULT_MEGAPIXELS_IN_FLIGHT, encoderImage, loadDataset, openDataset, skipSummary,
  type DatasetFieldOptions, type DatasetImage, type DatasetItem, type DatasetOptions, type DatasetRow,
  type LoadedDataset, type OpenedDataset, type SkippedRow,
} from './dataset.js';
export { checkImageSize, decodeImage, ImageDecodeError, readImageHeader, sniffImageFormat, MAX_IMAGE_MEGAPIXELS, type DecodedImage, type DecodeLimits, type ImageFormat, type ImageHeader } from './decode.js';
export { FileKindError, openRegularFile, readRegularFile } from '../regularFile.js';
export { DatasetError, formatOf, openRecords, type DatasetFormat, type RawRecord, type RecordSource } from './records.js';
