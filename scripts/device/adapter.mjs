// Prints the WebGPU adapter that Dawn finds (through the `webgpu` package), or says none.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { console.log('adapter: none'); process.exit(3); }
const i = adapter.info;
console.log('adapter:', JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description }));
console.log('features:', [...adapter.features].sort().join(','));
const l = adapter.limits;
console.log('limits:', JSON.stringify({ maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup }));
process.exit(0);
