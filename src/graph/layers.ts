/** The layer catalogue now lives in the registry (src/layers); this module forwards to it while importers move. */
export { LAYERS, allLayerNames, argSpec, closest, editDistance, layerSpec, type ArgSpec, type ArgType, type LayerSpec } from '../layers';
