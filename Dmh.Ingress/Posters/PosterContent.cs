namespace Dmh.Ingress.Posters;

/// <summary>Everything that goes into one poster; equal content renders equal bytes.</summary>
/// <param name="CampaignId">Seeds the generated background when there is no cover.</param>
/// <param name="Title">Campaign name.</param>
/// <param name="Inviter">Registrant's name or masked phone.</param>
/// <param name="Url">What the QR code encodes.</param>
/// <param name="Cover">Cover image bytes, or null for the generated background.</param>
/// <param name="Template">The layout (<see cref="PosterTemplates"/>).</param>
/// <param name="Background">The campaign's uploaded poster background, drawn instead of the cover.</param>
internal sealed record PosterContent(long CampaignId, string Title, string Inviter, string Url, byte[]? Cover,
    string Template = PosterTemplates.Classic, byte[]? Background = null);
