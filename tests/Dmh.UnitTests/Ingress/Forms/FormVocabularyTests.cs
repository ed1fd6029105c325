using System.Text.Json;
using Dmh.Ingress.Forms;

namespace Dmh.UnitTests.Ingress.Forms;

/// <summary>The server accepts the widgets the admin designer and the H5 page know (packages/form-vocabulary), no more, no fewer.</summary>
public sealed class FormVocabularyTests
{
    [Fact]
    public void The_server_allows_exactly_the_widgets_of_the_shared_form_vocabulary()
    {
        using var widgets = JsonDocument.Parse(RepositoryFiles.ReadText("packages/form-vocabulary/widgets.json"));
        var shared = widgets.RootElement.EnumerateArray().Select(w => w.GetProperty("value").GetString()!).ToList();

        Assert.Equal(shared.Count, shared.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(shared.Order(StringComparer.Ordinal), FormSchemaValidator.Widgets.Order(StringComparer.Ordinal));
    }
}
