using System.Collections.Concurrent;
using System.Text.Json;
using Dmh.Ingress.Http;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Dmh.Ingress.Orders;

/// <summary>
/// Checks a registration's form data against the campaign's stored JSON Schema (draft-07, NJsonSchema),
/// reporting errors as <c>formData.&lt;key&gt;</c>. Fields the schema does not name are refused, so no
/// unasked-for data is stored.
/// </summary>
public sealed class FormDataValidator
{
    private const int MaxCachedSchemas = 500;
    private readonly ConcurrentDictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    public async Task ValidateAsync(string? schemaJson, JsonElement formData, FieldErrors errors)
    {
        if (formData.ValueKind != JsonValueKind.Object)
        {
            errors.Add("formData", "formData must be an object.");
            return;
        }

        if (string.IsNullOrWhiteSpace(schemaJson))
        {
            foreach (var p in formData.EnumerateObject())
            {
                errors.Add("formData." + p.Name, "This campaign's form has no such field.");
            }

            return;
        }

        var schema = await SchemaAsync(schemaJson);
        foreach (var p in formData.EnumerateObject().Where(p => !schema.ActualProperties.ContainsKey(p.Name)))
        {
            errors.Add("formData." + p.Name, "This campaign's form has no such field.");
        }

        foreach (var error in schema.Validate(formData.GetRawText()))
        {
            Add(error, errors);
        }
    }

    private static void Add(ValidationError error, FieldErrors errors)
    {
        var key = KeyOf(error);
        var message = error.Kind switch
        {
            ValidationErrorKind.PropertyRequired => "This field is required.",
            ValidationErrorKind.StringTooShort => "Too short.",
            ValidationErrorKind.StringTooLong => "Too long.",
            ValidationErrorKind.PatternMismatch => "The format is not valid.",
            ValidationErrorKind.NumberTooSmall => "Too small.",
            ValidationErrorKind.NumberTooBig => "Too big.",
            ValidationErrorKind.NotInEnumeration => "Not one of the options.",
            ValidationErrorKind.EmailExpected => "An email address is expected.",
            ValidationErrorKind.DateExpected => "A date (yyyy-MM-dd) is expected.",
            ValidationErrorKind.TooFewItems => "Choose more options.",
            ValidationErrorKind.TooManyItems => "Choose fewer options.",
            _ => "Invalid value (" + error.Kind + ").",
        };
        errors.Add(key is null ? "formData" : "formData." + key, message);
    }

    /// <summary>The top-level field an error belongs to: <c>#/name</c>, <c>#/tags[0]</c> or a missing required property.</summary>
    private static string? KeyOf(ValidationError error)
    {
        if (error.Kind == ValidationErrorKind.PropertyRequired && error.Property is { Length: > 0 } missing)
        {
            return missing;
        }

        var path = error.Path ?? "";
        if (path.StartsWith("#/", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        var end = path.IndexOfAny(['/', '[', '.']);
        var key = end < 0 ? path : path[..end];
        return key.Length > 0 ? key : error.Property;
    }

    private async Task<JsonSchema> SchemaAsync(string json)
    {
        if (_schemas.TryGetValue(json, out var cached))
        {
            return cached;
        }

        var schema = await JsonSchema.FromJsonAsync(json);
        if (_schemas.Count >= MaxCachedSchemas)
        {
            _schemas.Clear();
        }

        _schemas[json] = schema;
        return schema;
    }
}
