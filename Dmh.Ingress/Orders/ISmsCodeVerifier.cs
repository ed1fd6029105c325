namespace Dmh.Ingress.Orders;

/// <summary>Checks an SMS code sent to a phone (campaigns with require_sms). Optional: without one, such campaigns answer 503.</summary>
public interface ISmsCodeVerifier
{
    Task<bool> VerifyAsync(string phone, string code, CancellationToken ct);
}
