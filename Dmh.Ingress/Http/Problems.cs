using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dmh.Ingress.Http;

/// <summary>
/// Every RFC 7807 answer of Ingress (docs/API.md: errors). Handlers build theirs here; the framework's own
/// (status code pages, the exception handler, binding failures, 405) get a DMH <c>type</c> in <see cref="AddProblems"/>.
/// </summary>
public static class Problems
{
    public const string TypeBase = "https://dmh.local/problems/";

    /// <summary>The problem answers of the framework carry a DMH <c>type</c> too (by status) instead of an RFC link.</summary>
    public static WebApplicationBuilder AddProblems(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c => WithDmhType(c.ProblemDetails));
        return builder;
    }

    /// <summary>A problem with a stable <c>type</c> slug, e.g. <c>already-registered</c>.</summary>
    public static ProblemHttpResult Of(int status, string slug, string title, string? detail = null) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Type = TypeBase + slug,
            Title = title,
            Detail = detail,
        });

    /// <summary>A problem with a stable <c>type</c> slug and extension members (e.g. the resource the conflict is about).</summary>
    public static ProblemHttpResult Of(int status, string slug, string title, string? detail, IReadOnlyDictionary<string, object?> extensions)
    {
        var problem = new ProblemDetails { Status = status, Type = TypeBase + slug, Title = title, Detail = detail };
        foreach (var (key, value) in extensions)
        {
            problem.Extensions[key] = value;
        }

        return TypedResults.Problem(problem);
    }

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

    public static ProblemHttpResult Validation(FieldErrors errors, int status = StatusCodes.Status400BadRequest) =>
        Validation(errors.ToDictionary(), status);

    public static ProblemHttpResult InvalidPaging(string detail) =>
        Of(StatusCodes.Status400BadRequest, "invalid-paging", "Invalid paging.", detail);

    public static ProblemHttpResult InvalidOrderToken() =>
        Of(StatusCodes.Status401Unauthorized, "invalid-order-token", "A valid X-Order-Token for this order is required.");

    public static ProblemHttpResult Forbidden(string title, string? detail = null) =>
        Of(StatusCodes.Status403Forbidden, "forbidden", title, detail);

    public static ProblemHttpResult NotFound(string what) =>
        Of(StatusCodes.Status404NotFound, "not-found", "Not found.", what + " does not exist.");

    public static ProblemHttpResult TooManyRequests(string detail) =>
        Of(StatusCodes.Status429TooManyRequests, "too-many-requests", "Too many requests.", detail);

    public static ProblemHttpResult PaymentProviderError(string title, string? detail) =>
        Of(StatusCodes.Status502BadGateway, "payment-provider-error", title, detail);

    /// <summary>The slug the framework's answers of this status get (docs/API.md lists them).</summary>
    public static string SlugFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "invalid-request",
        StatusCodes.Status401Unauthorized => "unauthorized",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not-found",
        StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
        StatusCodes.Status409Conflict => "conflict",
        StatusCodes.Status413PayloadTooLarge => "payload-too-large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported-media-type",
        StatusCodes.Status422UnprocessableEntity => "validation-failed",
        StatusCodes.Status429TooManyRequests => "too-many-requests",
        StatusCodes.Status500InternalServerError => "server-error",
        StatusCodes.Status503ServiceUnavailable => "unavailable",
        _ => "http-" + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Leaves a DMH type alone; any other (the framework's RFC links, or none) becomes the one for the status.</summary>
    internal static void WithDmhType(ProblemDetails problem)
    {
        if (problem.Type?.StartsWith(TypeBase, StringComparison.Ordinal) != true)
        {
            problem.Type = TypeBase + SlugFor(problem.Status ?? StatusCodes.Status500InternalServerError);
        }
    }
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
