/** Where the node's loopback API lives on its HTTP server. */
export const API_PREFIX = '/api/v0'
