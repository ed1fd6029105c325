using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dmh.Ingress.Http;

namespace Dmh.Ingress.Forms;

/// <summary>
/// Checks a campaign's form schema when it is saved: only the draft-07 subset docs/API.md lists, so
/// the H5 page (Ajv) and the server (NJsonSchema) agree on what it means.
/// </summary>
public static partial class FormSchemaValidator
{
    public const int MaxFields = 50;
    public const int MaxSchemaBytes = 64 * 1024;
    public const int MaxEnumValues = 100;

    public static readonly IReadOnlySet<string> Widgets = new HashSet<string>(StringComparer.Ordinal)
        { "text", "textarea", "number", "phone", "email", "date", "select", "radio", "checkbox" };

    private static readonly HashSet<string> RootKeywords = new(StringComparer.Ordinal)
        { "$schema", "type", "title", "description", "properties", "required", "additionalProperties" };

    private static readonly HashSet<string> FieldKeywords = new(StringComparer.Ordinal)
        { "type", "title", "description", "x-widget", "x-order", "minLength", "maxLength", "pattern", "minimum", "maximum", "format", "enum", "items", "minItems", "maxItems" };

    /// <summary>Adds one error per problem under <paramref name="prefix"/> (e.g. <c>formSchema</c>).</summary>
    public static void Validate(JsonElement schema, FieldErrors errors, string prefix = "formSchema")
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            errors.Add(prefix, "The form schema must be a JSON object.");
            return;
        }

        if (schema.GetRawText().Length > MaxSchemaBytes)
        {
            errors.Add(prefix, $"The form schema is larger than {MaxSchemaBytes / 1024} KiB.");
            return;
        }

        foreach (var p in schema.EnumerateObject().Where(p => !RootKeywords.Contains(p.Name)))
        {
            errors.Add($"{prefix}.{p.Name}", $"Unsupported keyword '{p.Name}'.");
        }

        if (!schema.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object")
        {
            errors.Add($"{prefix}.type", "The form schema's type must be \"object\".");
        }

        if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add($"{prefix}.additionalProperties", "additionalProperties must be true or false.");
        }

        var keys = new HashSet<string>(StringComparer.Ordinal);
        if (schema.TryGetProperty("properties", out var properties))
        {
            if (properties.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"{prefix}.properties", "properties must be an object.");
            }
            else
            {
                foreach (var field in properties.EnumerateObject())
                {
                    keys.Add(field.Name);
                    ValidateField(field.Name, field.Value, errors, $"{prefix}.properties.{field.Name}");
                }

                if (keys.Count > MaxFields)
                {
                    errors.Add($"{prefix}.properties", $"At most {MaxFields} fields.");
                }
            }
        }

        if (schema.TryGetProperty("required", out var required))
        {
            if (required.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{prefix}.required", "required must be an array of field keys.");
            }
            else
            {
                foreach (var r in required.EnumerateArray())
                {
                    if (r.ValueKind != JsonValueKind.String || !keys.Contains(r.GetString()!))
                    {
                        errors.Add($"{prefix}.required", $"required names {r.GetRawText()}, which is not a field.");
                    }
                }
            }
        }
    }

    private static void ValidateField(string key, JsonElement field, FieldErrors errors, string path)
    {
        if (string.Equals(key, "phone", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(path, "'phone' is a fixed order field and cannot be a form field.");
            return;
        }

        if (!FieldKey().IsMatch(key))
        {
            errors.Add(path, "Field keys are 1-64 letters, digits or '_' starting with a letter.");
        }

        if (field.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, "A field must be an object.");
            return;
        }

        foreach (var p in field.EnumerateObject().Where(p => !FieldKeywords.Contains(p.Name)))
        {
            errors.Add($"{path}.{p.Name}", $"Unsupported keyword '{p.Name}'.");
        }

        if (!field.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(title.GetString()) || title.GetString()!.Length > 100)
        {
            errors.Add($"{path}.title", "Every field needs a title (its label, at most 100 characters).");
        }

        var type = field.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type is not ("string" or "number" or "integer" or "array"))
        {
            errors.Add($"{path}.type", "type must be string, number, integer or array.");
            return;
        }

        if (field.TryGetProperty("x-widget", out var widget) && (widget.ValueKind != JsonValueKind.String || !Widgets.Contains(widget.GetString()!)))
        {
            errors.Add($"{path}.x-widget", "Unknown widget; use one of " + string.Join(", ", Widgets) + ".");
        }

        if (field.TryGetProperty("x-order", out var order) && !(order.ValueKind == JsonValueKind.Number && order.TryGetInt32(out _)))
        {
            errors.Add($"{path}.x-order", "x-order must be an integer.");
        }

        CheckNonNegativeInt(field, "minLength", path, errors, type == "string");
        CheckNonNegativeInt(field, "maxLength", path, errors, type == "string");
        CheckNonNegativeInt(field, "minItems", path, errors, type == "array");
        CheckNonNegativeInt(field, "maxItems", path, errors, type == "array");
        CheckNumber(field, "minimum", path, errors, type is "number" or "integer");
        CheckNumber(field, "maximum", path, errors, type is "number" or "integer");
        CheckOrder(field, "minLength", "maxLength", path, errors);
        CheckOrder(field, "minItems", "maxItems", path, errors);
        CheckOrder(field, "minimum", "maximum", path, errors);

        if (field.TryGetProperty("pattern", out var pattern))
        {
            if (type != "string" || pattern.ValueKind != JsonValueKind.String || pattern.GetString()!.Length > 500)
            {
                errors.Add($"{path}.pattern", "pattern must be a valid regular expression (at most 500 characters) on a string field.");
            }
            else if (PatternError(pattern.GetString()!) is { } patternError)
            {
                errors.Add($"{path}.pattern", patternError);
            }
        }

        if (field.TryGetProperty("format", out var format) && (type != "string" || format.ValueKind != JsonValueKind.String || format.GetString() is not ("email" or "date")))
        {
            errors.Add($"{path}.format", "format must be email or date on a string field.");
        }

        if (field.TryGetProperty("enum", out var values))
        {
            if (type == "array")
            {
                errors.Add($"{path}.enum", "Multiple choice puts its options in items.enum.");
            }
            else
            {
                CheckEnum(values, $"{path}.enum", errors);
            }
        }

        if (type == "array")
        {
            if (!field.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Object
                || !items.TryGetProperty("type", out var itemType) || itemType.ValueKind != JsonValueKind.String || itemType.GetString() != "string"
                || !items.TryGetProperty("enum", out var itemEnum)
                || items.EnumerateObject().Any(p => p.Name is not ("type" or "enum")))
            {
                errors.Add($"{path}.items", "Multiple choice needs items: {\"type\": \"string\", \"enum\": [...]}.");
            }
            else
            {
                CheckEnum(itemEnum, $"{path}.items.enum", errors);
            }
        }
        else if (field.TryGetProperty("items", out _))
        {
            errors.Add($"{path}.items", "items is only for type array.");
        }
    }

    private static void CheckEnum(JsonElement values, string path, FieldErrors errors)
    {
        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() is 0 or > MaxEnumValues)
        {
            errors.Add(path, $"enum must list 1 to {MaxEnumValues} options.");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in values.EnumerateArray())
        {
            if (v.ValueKind != JsonValueKind.String || v.GetString()!.Length is 0 or > 200 || !seen.Add(v.GetString()!))
            {
                errors.Add(path, "enum options must be distinct non-empty strings of at most 200 characters.");
                return;
            }
        }
    }

    private static void CheckNonNegativeInt(JsonElement field, string name, string path, FieldErrors errors, bool applies)
    {
        if (!field.TryGetProperty(name, out var v))
        {
            return;
        }

        if (!applies || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 0)
        {
            errors.Add($"{path}.{name}", $"{name} must be a non-negative integer on a field of the matching type.");
        }
    }

    private static void CheckNumber(JsonElement field, string name, string path, FieldErrors errors, bool applies)
    {
        if (field.TryGetProperty(name, out var v) && (!applies || v.ValueKind != JsonValueKind.Number || !v.TryGetDecimal(out _)))
        {
            errors.Add($"{path}.{name}", $"{name} must be a number on a number field.");
        }
    }

    private static void CheckOrder(JsonElement field, string low, string high, string path, FieldErrors errors)
    {
        if (field.TryGetProperty(low, out var l) && field.TryGetProperty(high, out var h)
            && l.ValueKind == JsonValueKind.Number && h.ValueKind == JsonValueKind.Number
            && l.TryGetDecimal(out var lv) && h.TryGetDecimal(out var hv) && lv > hv)
        {
            errors.Add($"{path}.{low}", string.Create(CultureInfo.InvariantCulture, $"{low} is above {high}."));
        }
    }

    private static string? PatternError(string pattern)
    {
        try
        {
            _ = FormPatterns.Compile(pattern);
            return null;
        }
        catch (ArgumentException)
        {
            return "pattern must be a valid regular expression (at most 500 characters) on a string field.";
        }
        catch (NotSupportedException)
        {
            return "pattern may not use backreferences, lookarounds, atomic groups or conditionals, nor counted repetitions that large.";
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex FieldKey();
}
