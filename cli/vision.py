"""`spark-agents vision ocr|info|describe`: the vision tools from the command line.

Register with `vision.cli.register(app)`; also runnable alone as `python -m vision.cli`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.console import run_cli


def register(app: typer.Typer) -> None:
    vision = typer.Typer(
        help="Read images: OCR offline, metadata, and questions to the vision model.", no_args_is_help=True
    )
    app.add_typer(vision, name="vision")

    @vision.command("ocr")
    def ocr(
        path: Annotated[Path, typer.Argument(help="Image file (PNG, JPEG, GIF, WebP, BMP, TIFF).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the text with every box and confidence.")] = False,
    ) -> None:
        """Print the text in an image (offline OCR, reading order)."""

        def body() -> None:
            from vision.images import load_image, normalize
            from vision.ocr import ocr_image
            from vision.settings import VisionSettings

            settings = VisionSettings()
            img = load_image(path, settings)
            for note in img.notes:
                typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
            result = ocr_image(normalize(img), settings)
            print(result.model_dump_json(indent=2) if as_json else result.text)

        run_cli(body)

    @vision.command("info")
    def info(
        path: Annotated[Path, typer.Argument(help="Image file.")],
        gps: Annotated[bool, typer.Option("--gps", help="Include the GPS location if the image has one.")] = False,
    ) -> None:
        """Print an image's real format, size, frames and EXIF as JSON (GPS only with --gps)."""

        def body() -> None:
            from vision.images import load_image
            from vision.metadata import image_info
            from vision.settings import VisionSettings

            print(image_info(load_image(path, VisionSettings()), include_gps=gps).model_dump_json(indent=2))

        run_cli(body)

    @vision.command("describe")
    def describe(
        paths: Annotated[list[Path], typer.Argument(help="One or several image files.")],
        question: Annotated[str, typer.Option("--question", "-q", help="What to ask.")] = "Describe this image.",
        as_json: Annotated[bool, typer.Option("--json", help="Print the answer with what was sent.")] = False,
    ) -> None:
        """Ask the vision model (the `vision` role) about one or several images."""

        def body() -> None:
            from vision.describe import describe_images
            from vision.images import load_image
            from vision.settings import VisionSettings

            settings = VisionSettings()
            result = describe_images([load_image(p, settings) for p in paths], question, settings)
            if as_json:
                print(json.dumps(result.model_dump(), indent=2))
                return
            for note in result.notes:
                typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
            print(result.answer)

        run_cli(body)


if __name__ == "__main__":
    _app = typer.Typer(no_args_is_help=True)
    register(_app)
    _app(prog_name="spark-agents")
