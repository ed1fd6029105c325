using Microsoft.AspNetCore.Http.HttpResults;

namespace Dmh.Ingress.Http;

/// <summary>RFC 7807 answers shared by the Ingress features (docs/API.md: errors).</summary>
public static class Problems
{
    public const string TypeBase = "https://dmh.local/problems/";

    /// <summary>A problem with a stable <c>type</c> slug, e.g. <c>already-registered</c>.</summary>
    public static ProblemHttpResult Of(int status, string slug, string title, string? detail = null) =>
        TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = status,
            Type = TypeBase + slug,
            Title = title,
            Detail = detail,
        });

    /// <summary>Field errors: 400 for a malformed request, 422 for a well-formed one the rules refuse.</summary>
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Type = TypeBase + (status == StatusCodes.Status400BadRequest ? "invalid-request" : "validation-failed"),
            Title = status == StatusCodes.Status400BadRequest ? "The request is invalid." : "The request breaks a rule.",
        });

    public static ProblemHttpResult Validation(string field, string message, int status = StatusCodes.Status400BadRequest) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] }, status);

    public static ProblemHttpResult TooManyRequests(string detail) =>
        Of(StatusCodes.Status429TooManyRequests, "too-many-requests", "Too many requests.", detail);

    public static ProblemHttpResult NotFound(string what) =>
        Of(StatusCodes.Status404NotFound, "not-found", "Not found.", what + " does not exist.");
}

/// <summary>Collects field errors of one request.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    public Dictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}
