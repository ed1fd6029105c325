using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.Http;

/// <summary>Where participants reach DMH (links in campaigns and posters).</summary>
public sealed class PublicOptions
{
    public const string SectionName = "Public";

    [Required]
    [Url]
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";
}
