/** A DhanHQ-shaped REST failure: HTTP status plus the `{errorType, errorCode, errorMessage}` body. */
export class SimApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }

  body(): { errorType: string; errorCode: string; errorMessage: string } {
    return { errorType: this.errorType, errorCode: this.errorCode, errorMessage: this.message };
  }
}

export const apiErrors = {
  auth: () =>
    new SimApiError(
      401,
      'DH-901',
      'Invalid_Authentication',
      'Client ID or user generated access token is invalid or expired.',
    ),
  noData: () =>
    new SimApiError(
      403,
      'DH-902',
      'Invalid_Access',
      'User has not subscribed to Data APIs or does not have access to Trading APIs.',
    ),
  rateLimit: () =>
    new SimApiError(
      429,
      'DH-904',
      'Rate_Limit',
      'Too many requests on server from single user breaching rate limits. Try throttling API calls.',
    ),
  input: (message: string) => new SimApiError(400, 'DH-905', 'Input_Exception', message),
  order: (message: string, status = 400) =>
    new SimApiError(status, 'DH-906', 'Order_Error', message),
  data: (message: string) => new SimApiError(400, 'DH-907', 'Data_Error', message),
  internal: (status = 500) =>
    new SimApiError(status, 'DH-908', 'Internal_Server_Error', 'Internal server error.'),
  noHoldings: () => new SimApiError(500, 'DH-1111', 'Holding_Error', 'No holdings available'),
};
