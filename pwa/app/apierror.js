// An error answer of our API (the one error envelope), usable in pages and the service worker.
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || null;
    this.fields = error.fields || {};
  }
}
