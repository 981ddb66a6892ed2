export { isLoopbackAddress, isLoopbackHost } from './access.ts'
export { createGatewayApp, type GatewayAppOptions, type GatewayEnv, type PutBlock } from './app.ts'
export type { GatewayBackend, LikeAnswer } from './backend.ts'
export { LIKE_LIMIT, readFileRange } from './content-routes.ts'
export { HttpError } from './http-errors.ts'
export { type LocalBackendOptions, localGatewayBackend } from './local-backend.ts'
export { GatewayMetrics, type RouteKind } from './metrics.ts'
export { parseRange, type RangeRequest } from './range.ts'
export {
  DEFAULT_GATEWAY_HOST,
  DEFAULT_GATEWAY_PORT,
  type Gateway,
  type GatewayOptions,
  startGateway,
} from './server.ts'
export { renderStatusPage } from './status-page.ts'
