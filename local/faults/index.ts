/** Generic fault injection: a rule list, the response shaper, a streaming reverse proxy and an S3 classifier. */
export type { Fault, FaultKind, FaultMatch, FaultPlan, FaultRule, FaultTiming, RequestFacts } from './types.js';
export { ArmedRule, FaultLayer, type FaultChooser, type FiredFault } from './layer.js';
export { applyFaultBefore, deliver, type OutgoingResponse, type ResponseBody } from './deliver.js';
export { startFaultProxy, type FaultProxy, type FaultProxyOptions, type ProxiedRequest } from './proxy.js';
export { s3Operation, type S3Operation, type S3RequestLike } from './s3.js';
