"""The shared form layout (``core/form_fields.html``): a checkbox sits inside its own label (issue 11: 保密 was
shown beside 领域 and 利益冲突 beside 创新性, because an inline checkbox followed the next field's label)."""

import re

from django import forms
from django.template.loader import render_to_string


class _Form(forms.Form):
    field = forms.CharField(label="领域")
    confidential = forms.BooleanField(label="保密", required=False, help_text="仅受邀机构可见")
    innovation = forms.IntegerField(label="创新性")


def test_a_checkbox_is_inside_its_own_label_and_text_fields_keep_label_then_input():
    html = render_to_string("core/form_fields.html", {"form": _Form()})
    checkbox = re.search(r'<label for="id_confidential" class="checkbox-field">\s*<input type="checkbox"[^>]*'
                         r'id="id_confidential"[^>]*>\s*保密</label>', html)
    assert checkbox, html
    assert re.search(r'<label for="id_innovation">创新性 <span aria-hidden="true">\*</span></label>\s*<input', html)
    assert html.index("仅受邀机构可见") < html.index('for="id_innovation"')
