using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dmh.Ingress.Http;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Dmh.Ingress.Forms;

/// <summary>
/// Checks a registration's form data against the campaign's stored JSON Schema (draft-07, NJsonSchema),
/// reporting errors as <c>formData.&lt;key&gt;</c>. Fields the schema does not name are refused, so no
/// unasked-for data is stored. Patterns are matched here rather than by NJsonSchema (whose static
/// <c>Regex.IsMatch</c> has no time limit), after the length checks, with <see cref="FormPatterns"/>.
/// </summary>
public sealed class FormDataValidator
{
    private const int MaxCachedSchemas = 500;
    private readonly ConcurrentDictionary<string, Form> _forms = new(StringComparer.Ordinal);

    private sealed record Form(JsonSchema Schema, IReadOnlyDictionary<string, Regex> Patterns);

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

        var form = await FormAsync(schemaJson);
        foreach (var p in formData.EnumerateObject().Where(p => !form.Schema.ActualProperties.ContainsKey(p.Name)))
        {
            errors.Add("formData." + p.Name, "This campaign's form has no such field.");
        }

        var tooLong = new HashSet<string>(StringComparer.Ordinal);
        foreach (var error in form.Schema.Validate(formData.GetRawText()))
        {
            Add(error, errors);
            if (error.Kind == ValidationErrorKind.StringTooLong && KeyOf(error) is { } key)
            {
                tooLong.Add(key);
            }
        }

        foreach (var (key, pattern) in form.Patterns)
        {
            if (tooLong.Contains(key) || !formData.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            try
            {
                if (!pattern.IsMatch(value.GetString()!))
                {
                    errors.Add("formData." + key, "The format is not valid.");
                }
            }
            catch (RegexMatchTimeoutException)
            {
                errors.Add("formData." + key, "The format could not be checked.");
            }
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

    /// <summary>The parsed schema with its patterns taken out of it and compiled (cached per schema text).</summary>
    private async Task<Form> FormAsync(string json)
    {
        if (_forms.TryGetValue(json, out var cached))
        {
            return cached;
        }

        var schema = await JsonSchema.FromJsonAsync(json);
        var patterns = new Dictionary<string, Regex>(StringComparer.Ordinal);
        foreach (var (key, property) in schema.ActualProperties)
        {
            if (!string.IsNullOrEmpty(property.Pattern))
            {
                patterns[key] = FormPatterns.CompileStored(property.Pattern);
                property.Pattern = null;
            }
        }

        var form = new Form(schema, patterns);
        if (_forms.Count >= MaxCachedSchemas)
        {
            _forms.Clear();
        }

        _forms[json] = form;
        return form;
    }
}
